package dev.finadvisor.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.runs.RegisteredAdapter;
import dev.finadvisor.domain.runs.Registry;
import dev.finadvisor.domain.runs.RegistryRef;
import dev.finadvisor.llm.lora.PeftAdapter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The LoRA adapter to serve, from a folder or a registry reference, with the prompt template its
 * training used: recorded in the adapter itself, else in its run's {@code config.yaml} ({@code model.template}).
 *
 * @param id       what clients and logs call it: the registry reference with its version, or the folder name
 * @param template the training template, or null when neither the adapter nor its run records one
 * @param baseModel the checkpoint the adapter was trained on, as recorded (may be null)
 */
public record ServedAdapter(Path dir, String id, PeftAdapter adapter, String template, String baseModel) {

    /** An adapter served under {@code name} (what requests pick it by; null: the default name, base model + adapter id). */
    public record Named(String name, ServedAdapter adapter) {}

    private static final java.util.regex.Pattern NAMED = java.util.regex.Pattern.compile("([A-Za-z0-9][A-Za-z0-9._-]{0,63})=(.+)");

    /** Resolves {@code NAME=REF} or a plain {@code REF} (see {@link #resolve}). */
    public static Named resolveNamed(String argument, Path registryRoot) {
        java.util.regex.Matcher m = NAMED.matcher(argument);
        if (m.matches()) return new Named(m.group(1), resolve(m.group(2), registryRoot));
        return new Named(null, resolve(argument, registryRoot));
    }

    /** Resolves {@code argument}: {@code registry:NAME@ALIAS}, {@code registry:NAME:VERSION} or a PEFT folder. */
    public static ServedAdapter resolve(String argument, Path registryRoot) {
        Path dir;
        String id;
        Path runDir;
        String baseModel;
        if (RegistryRef.isRegistryRef(argument)) {
            RegisteredAdapter r = new Registry(registryRoot).resolve(argument);
            dir = r.adapterDir();
            id = r.ref().name() + ":" + r.version() + (r.ref().alias() != null ? " (@" + r.ref().alias() + ")" : "");
            runDir = r.model().runDir() == null ? null : Path.of(r.model().runDir());
            baseModel = r.baseModel() == null ? null : r.baseModel().path();
        } else {
            dir = Path.of(argument).toAbsolutePath().normalize();
            if (!Files.isDirectory(dir)) {
                throw new UserError("--adapter " + argument + ": no such folder; give a PEFT adapter folder (adapter_config.json +"
                        + " adapter_model.safetensors) or registry:NAME@ALIAS");
            }
            id = dir.getFileName().toString();
            // An adapter inside a run folder (runs/ID/adapter) has the run's config beside it.
            runDir = dir.getParent();
            baseModel = null;
        }
        PeftAdapter adapter = PeftAdapter.read(dir);
        String template = adapter.config().template();
        if (template == null && runDir != null) template = runTemplate(runDir.resolve("config.yaml"));
        if (baseModel == null) baseModel = adapter.config().baseModel();
        return new ServedAdapter(dir, id, adapter, template, baseModel);
    }

    private static String runTemplate(Path config) {
        if (!Files.isRegularFile(config)) return null;
        try {
            JsonNode t = new ObjectMapper(new YAMLFactory()).readTree(config.toFile()).path("model").path("template");
            return t.isTextual() && !t.asText().isBlank() ? t.asText() : null;
        } catch (IOException e) {
            throw new UserError(config + ": cannot read the run's configuration (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The template to render: the adapter's own; a configured one must agree with it (a different
     * template would show the model prompts it never saw in training).
     */
    public static String chooseTemplate(String configured, ServedAdapter adapter) {
        boolean set = configured != null && !configured.isBlank();
        String trained = adapter == null ? null : adapter.template();
        if (trained != null) {
            if (set && !configured.equals(trained)) {
                throw new UserError("generation.template is '" + configured + "' but adapter " + adapter.id() + " was trained with '"
                        + trained + "'; remove generation.template (the adapter's template is used) or serve another adapter");
            }
            return trained;
        }
        if (set) return configured;
        throw new UserError(adapter == null
                ? "no adapter, so no training template to follow: set generation.template (falcon, chatml, llama3 or model)"
                : "adapter " + adapter.id() + " records no prompt template (nor does its run): set generation.template to the one it was trained with");
    }
}
