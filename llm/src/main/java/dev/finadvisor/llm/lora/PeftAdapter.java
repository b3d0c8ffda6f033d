package dev.finadvisor.llm.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.safetensors.SafetensorsFile;
import dev.finadvisor.llm.safetensors.SafetensorsWriter;
import dev.finadvisor.llm.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A LoRA adapter in PEFT's folder format, so that adapters trained here load in PEFT, vLLM and TGI
 * and theirs load here: {@code adapter_config.json} and {@code adapter_model.safetensors} with keys
 * {@code base_model.model.<module path>.lora_A.weight} [r, in] and {@code ...lora_B.weight} [out, r].
 * The prompt template is recorded in the safetensors header metadata (key {@value #TEMPLATE_KEY}),
 * where PEFT ignores it, rather than in the config, whose unknown keys some PEFT versions refuse.
 */
public record PeftAdapter(LoraConfig config, Map<String, LoraWeights> modules) {
    public static final String CONFIG_FILE = "adapter_config.json";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    public static final String TEMPLATE_KEY = "finadvisor.template";
    private static final String PREFIX = "base_model.model.";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public PeftAdapter {
        modules = java.util.Collections.unmodifiableMap(new TreeMap<>(modules));
        for (Map.Entry<String, LoraWeights> e : modules.entrySet()) {
            if (e.getValue().r() != config.r()) {
                throw new IllegalArgumentException("module " + e.getKey() + " has rank " + e.getValue().r() + ", the config says r=" + config.r());
            }
        }
    }

    /** Writes both files into {@code dir} (created if needed), each atomically (temp file + rename). */
    public void write(Path dir) throws IOException {
        write(dir, config, writer -> modules.forEach((module, w) -> {
            writer.addFloats(tensorName(module, "A"), new long[] {w.r(), w.in()}, w.a());
            writer.addFloats(tensorName(module, "B"), new long[] {w.out(), w.r()}, w.b());
        }));
    }

    /** An adapter folder of {@code config} whose factors {@code tensors} adds to the weights file (named by {@link #tensorName}). */
    static void write(Path dir, LoraConfig config, java.util.function.Consumer<SafetensorsWriter> tensors) throws IOException {
        Files.createDirectories(dir);
        SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
        if (config.template() != null) writer.metadata(TEMPLATE_KEY, config.template());
        tensors.accept(writer);
        writer.write(dir.resolve(WEIGHTS_FILE));
        writeAtomically(dir.resolve(CONFIG_FILE), JSON.writeValueAsBytes(configJson(config)));
    }

    /** PEFT's name of a module's factor ({@code A} or {@code B}) in the weights file. */
    static String tensorName(String module, String factor) {
        return PREFIX + module + ".lora_" + factor + ".weight";
    }

    /** PEFT's LoraConfig fields as {@code save_pretrained} writes them (inference mode, no bias, no extras). */
    private static ObjectNode configJson(LoraConfig config) {
        ObjectNode c = JSON.createObjectNode();
        c.putNull("auto_mapping");
        c.put("base_model_name_or_path", config.baseModel());
        c.put("bias", "none");
        c.put("fan_in_fan_out", false);
        c.put("inference_mode", true);
        c.put("init_lora_weights", true);
        c.putNull("layers_pattern");
        c.putNull("layers_to_transform");
        c.putObject("alpha_pattern");
        c.putObject("rank_pattern");
        if (config.alpha() == Math.rint(config.alpha())) c.put("lora_alpha", (long) config.alpha()); // PEFT writes an int
        else c.put("lora_alpha", config.alpha());
        c.put("lora_dropout", config.dropout());
        c.putNull("modules_to_save");
        c.put("peft_type", "LORA");
        c.put("r", config.r());
        c.putNull("revision");
        c.putArray("target_modules").addAll(config.targetModules().stream().map(c::textNode).toList());
        c.put("task_type", "CAUSAL_LM");
        c.put("use_dora", false);
        c.put("use_rslora", config.useRslora());
        return c;
    }

    /**
     * Copies the adapter's two files from {@code from} (e.g. a checkpoint, which holds more) into the folder {@code to},
     * byte for byte: nothing is read into memory (a 7B model's factors and the Java heap they would take).
     */
    public static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        for (String file : new String[] {WEIGHTS_FILE, CONFIG_FILE}) Files.copy(from.resolve(file), to.resolve(file), StandardCopyOption.REPLACE_EXISTING);
    }

    /** Reads a PEFT adapter folder; anything this runtime cannot apply exactly is an error naming the file and field. */
    public static PeftAdapter read(Path dir) {
        Path configFile = dir.resolve(CONFIG_FILE);
        Path weightsFile = dir.resolve(WEIGHTS_FILE);
        JsonNode c;
        try {
            c = JSON.readTree(Files.readAllBytes(configFile));
        } catch (NoSuchFileException e) {
            throw new UserError(dir + ": not a PEFT adapter folder (no " + CONFIG_FILE + ")");
        } catch (IOException e) {
            throw new UserError(configFile + ": cannot read as JSON: " + e.getMessage());
        }
        if (c == null || !c.isObject()) throw new UserError(configFile + ": expected a JSON object");
        require(configFile, "peft_type", c, "LORA");
        if (c.hasNonNull("task_type")) require(configFile, "task_type", c, "CAUSAL_LM");
        if (c.hasNonNull("bias")) require(configFile, "bias", c, "none");
        refuseTrue(configFile, c, "fan_in_fan_out", "weights stored transposed (Conv1D models such as GPT-2) are not supported");
        refuseTrue(configFile, c, "use_dora", "DoRA adapters are not supported");
        for (String pattern : List.of("rank_pattern", "alpha_pattern")) {
            if (c.hasNonNull(pattern) && !c.get(pattern).isEmpty()) {
                throw new UserError(configFile + ": '" + pattern + "' sets per-module values; only one r and lora_alpha for all modules is supported");
            }
        }
        if (c.hasNonNull("modules_to_save") && !c.get("modules_to_save").isEmpty()) {
            throw new UserError(configFile + ": 'modules_to_save' " + c.get("modules_to_save") + " holds fully trained modules; only LoRA factors are supported");
        }
        if (!c.path("r").canConvertToInt() || !c.path("r").isIntegralNumber()) throw new UserError(configFile + ": 'r' must be a whole number, got " + c.get("r"));
        if (!c.path("lora_alpha").isNumber()) throw new UserError(configFile + ": 'lora_alpha' must be a number, got " + c.get("lora_alpha"));
        List<String> targets = new ArrayList<>();
        JsonNode t = c.path("target_modules");
        if (t.isArray()) t.forEach(x -> targets.add(x.asText()));
        else if (t.isTextual()) targets.add(t.asText());

        Map<String, float[]> a = new LinkedHashMap<>();
        Map<String, float[]> b = new LinkedHashMap<>();
        Map<String, long[]> aShape = new LinkedHashMap<>();
        Map<String, long[]> bShape = new LinkedHashMap<>();
        String template;
        if (!Files.exists(weightsFile)) {
            throw new UserError(dir + ": no " + WEIGHTS_FILE + " (only safetensors adapters are loaded, never pickle .bin files)");
        }
        try (SafetensorsFile file = SafetensorsFile.open(weightsFile)) {
            template = file.metadata().get(TEMPLATE_KEY);
            for (TensorInfo info : file.tensors()) {
                String name = info.name();
                boolean isA = name.endsWith(".lora_A.weight");
                boolean isB = name.endsWith(".lora_B.weight");
                if (!name.startsWith(PREFIX) || !(isA || isB)) {
                    throw new UserError(weightsFile + ": tensor '" + name + "' is not a LoRA factor named "
                            + PREFIX + "<module path>.lora_A.weight or .lora_B.weight");
                }
                if (info.shape().length != 2) throw new UserError(weightsFile + ": tensor '" + name + "' must be 2-D, has shape " + java.util.Arrays.toString(info.shape()));
                String module = name.substring(PREFIX.length(), name.length() - ".lora_A.weight".length());
                (isA ? a : b).put(module, file.readFloats(name));
                (isA ? aShape : bShape).put(module, info.shape());
            }
        }
        int r = c.get("r").asInt();
        Map<String, LoraWeights> modules = new TreeMap<>();
        for (String module : a.keySet()) {
            if (!b.containsKey(module)) throw new UserError(weightsFile + ": module " + module + " has lora_A but no lora_B");
            long[] sa = aShape.get(module);
            long[] sb = bShape.get(module);
            if (sa[0] != r || sb[1] != r) {
                throw new UserError(weightsFile + ": module " + module + ": lora_A " + java.util.Arrays.toString(sa) + " and lora_B "
                        + java.util.Arrays.toString(sb) + " do not have rank r=" + r + " from " + CONFIG_FILE);
            }
            modules.put(module, new LoraWeights(r, (int) sa[1], (int) sb[0], a.get(module), b.get(module)));
        }
        for (String module : b.keySet()) {
            if (!a.containsKey(module)) throw new UserError(weightsFile + ": module " + module + " has lora_B but no lora_A");
        }
        if (modules.isEmpty()) throw new UserError(weightsFile + ": holds no LoRA factors");
        try {
            LoraConfig config = new LoraConfig(r, c.get("lora_alpha").asDouble(), c.path("lora_dropout").asDouble(0.0), targets,
                    c.path("use_rslora").asBoolean(false), c.path("base_model_name_or_path").asText(null), template);
            return new PeftAdapter(config, modules);
        } catch (IllegalArgumentException e) {
            throw new UserError(configFile + ": " + e.getMessage());
        }
    }

    private static void require(Path file, String key, JsonNode c, String expected) {
        String actual = c.path(key).asText(null);
        if (!expected.equals(actual)) {
            throw new UserError(file + ": '" + key + "' is " + (actual == null ? "missing" : "'" + actual + "'") + ", only '" + expected + "' is supported");
        }
    }

    private static void refuseTrue(Path file, JsonNode c, String key, String why) {
        if (c.path(key).asBoolean(false)) throw new UserError(file + ": '" + key + "' is true: " + why);
    }

    static void writeAtomically(Path target, byte[] bytes) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
