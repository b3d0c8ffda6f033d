package dev.finadvisor.llm.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.safetensors.SafetensorsFile;
import dev.finadvisor.llm.safetensors.SafetensorsShards;
import dev.finadvisor.llm.safetensors.SafetensorsWriter;
import dev.finadvisor.llm.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Folds a LoRA adapter into its base checkpoint: {@code W' = W + scale * B A} for every adapted
 * module, every other tensor copied byte for byte, shards and index kept, dtypes kept (fp16/bf16
 * weights are merged in fp32 and rounded back once). The result is an ordinary Hugging Face
 * checkpoint folder that loads here and in transformers without PEFT. Written to a temporary
 * folder and renamed, so a failed export leaves nothing half-written.
 */
public final class AdapterMerge {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AdapterMerge() {}

    /** Merges {@code adapter} into the checkpoint at {@code modelDir}, writing {@code outDir}; returns the modules merged. */
    public static int merge(Path modelDir, PeftAdapter adapter, Path outDir) throws IOException {
        if (Files.exists(outDir)) throw new UserError(outDir + " already exists; choose a new --out folder");
        List<String> shardFiles = shardFiles(modelDir);
        Map<String, String> weightShard = new LinkedHashMap<>();
        try (SafetensorsShards shards = SafetensorsShards.open(modelDir)) {
            List<String> problems = new ArrayList<>();
            for (Map.Entry<String, LoraWeights> e : adapter.modules().entrySet()) {
                String name = e.getKey() + ".weight";
                LoraWeights w = e.getValue();
                if (!shards.contains(name)) {
                    problems.add("the adapter module " + e.getKey() + " has no weight '" + name + "' in the checkpoint");
                    continue;
                }
                long[] shape = shards.info(name).shape();
                if (shape.length != 2 || shape[0] != w.out() || shape[1] != w.in()) {
                    problems.add("'" + name + "' has shape " + Arrays.toString(shape) + " but the adapter's factors make ["
                            + w.out() + ", " + w.in() + "]");
                }
            }
            if (!problems.isEmpty()) {
                throw new UserError("cannot merge the adapter into " + modelDir + " (is it the adapter's base model "
                        + adapter.config().baseModel() + "?): " + String.join("; ", problems));
            }
        }
        Path tmp = outDir.resolveSibling(outDir.getFileName() + ".tmp");
        deleteTree(tmp);
        Files.createDirectories(tmp);
        int merged = 0;
        for (String shardName : shardFiles) {
            try (SafetensorsFile shard = SafetensorsFile.open(modelDir.resolve(shardName))) {
                SafetensorsWriter writer = new SafetensorsWriter();
                shard.metadata().forEach(writer::metadata);
                for (TensorInfo t : shard.tensors()) {
                    String name = t.name();
                    String module = name.endsWith(".weight") ? name.substring(0, name.length() - ".weight".length()) : null;
                    LoraWeights w = module == null ? null : adapter.modules().get(module);
                    if (w != null) {
                        float[] weight = shard.readFloats(name);
                        float[] delta = w.delta(adapter.config().scale());
                        for (int i = 0; i < weight.length; i++) weight[i] += delta[i];
                        writer.addFloats(name, t.shape(), weight, t.dtype());
                        weightShard.put(name, shardName);
                        merged++;
                    } else {
                        writer.add(name, t.dtype(), t.shape(), shard.readBytes(name));
                    }
                }
                writer.write(tmp.resolve(shardName));
            }
        }
        try (Stream<Path> files = Files.list(modelDir)) {
            for (Path f : files.toList()) {
                String n = f.getFileName().toString();
                boolean weights = n.endsWith(".safetensors") || n.endsWith(".bin") || n.endsWith(".pt") || n.endsWith(".pth");
                if (Files.isRegularFile(f) && !weights) Files.copy(f, tmp.resolve(n)); // config, tokenizer, index
            }
        }
        Files.move(tmp, outDir, StandardCopyOption.ATOMIC_MOVE);
        return merged;
    }

    /** The safetensors files of a checkpoint: the index's shards, else model.safetensors. */
    private static List<String> shardFiles(Path modelDir) throws IOException {
        Path index = modelDir.resolve(SafetensorsShards.INDEX);
        if (Files.exists(index)) {
            JsonNode map = JSON.readTree(index.toFile()).path("weight_map");
            Set<String> files = new LinkedHashSet<>();
            map.fields().forEachRemaining(e -> files.add(e.getValue().asText()));
            return List.copyOf(files);
        }
        if (!Files.exists(modelDir.resolve(SafetensorsShards.SINGLE))) {
            throw new UserError(modelDir + ": no " + SafetensorsShards.SINGLE + " or " + SafetensorsShards.INDEX + " (only safetensors checkpoints are supported)");
        }
        return List.of(SafetensorsShards.SINGLE);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
