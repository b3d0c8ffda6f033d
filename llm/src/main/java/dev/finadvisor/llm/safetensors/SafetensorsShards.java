package dev.finadvisor.llm.safetensors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.util.JsonErrors;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The weights of a Hugging Face checkpoint folder: {@code model.safetensors}, or the shards listed in
 * {@code model.safetensors.index.json}, seen as one name -> tensor map.
 */
public final class SafetensorsShards implements AutoCloseable {
    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private final Path dir;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byTensor;

    private SafetensorsShards(Path dir, List<SafetensorsFile> files, Map<String, SafetensorsFile> byTensor) {
        this.dir = dir;
        this.files = files;
        this.byTensor = byTensor;
    }

    public static SafetensorsShards open(Path dir) {
        Path index = dir.resolve(INDEX);
        Path single = dir.resolve(SINGLE);
        if (Files.isRegularFile(index)) return openIndexed(dir, index);
        if (Files.isRegularFile(single)) {
            SafetensorsFile f = SafetensorsFile.open(single);
            Map<String, SafetensorsFile> map = new LinkedHashMap<>();
            for (TensorInfo t : f.tensors()) map.put(t.name(), f);
            return new SafetensorsShards(dir, List.of(f), map);
        }
        List<String> pickles = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.{bin,pt,pth}")) {
            ds.forEach(p -> pickles.add(p.getFileName().toString()));
        } catch (IOException e) {
            throw new SafetensorsException(dir + ": cannot list the checkpoint folder: " + e.getMessage(), e);
        }
        if (!pickles.isEmpty()) {
            throw new SafetensorsException(dir + ": has only pickle weights (" + String.join(", ", pickles)
                    + "), which are refused (loading them can run arbitrary code); convert them to safetensors, e.g. "
                    + "AutoModelForCausalLM.from_pretrained(dir).save_pretrained(out, safe_serialization=True)");
        }
        throw new SafetensorsException(dir + ": no " + SINGLE + " or " + INDEX + " found");
    }

    private static SafetensorsShards openIndexed(Path dir, Path index) {
        JsonNode weightMap;
        try {
            weightMap = new ObjectMapper().readTree(index.toFile()).get("weight_map");
        } catch (IOException e) {
            throw new SafetensorsException(index + ": not valid JSON: " + JsonErrors.describe(e), e);
        }
        if (weightMap == null || !weightMap.isObject()) throw new SafetensorsException(index + ": missing the 'weight_map' object");
        Map<String, SafetensorsFile> opened = new LinkedHashMap<>();
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        try {
            for (var it = weightMap.fields(); it.hasNext(); ) {
                var e = it.next();
                String shard = e.getValue().asText();
                if (shard.contains("/") || shard.contains("\\") || shard.startsWith(".")) {
                    throw new SafetensorsException(index + ": tensor '" + e.getKey() + "' points to '" + shard + "', outside the checkpoint folder");
                }
                SafetensorsFile f = opened.get(shard);
                if (f == null) {
                    Path p = dir.resolve(shard);
                    if (!Files.isRegularFile(p)) {
                        throw new SafetensorsException(index + ": tensor '" + e.getKey() + "' is in shard '" + shard + "', which is missing");
                    }
                    f = SafetensorsFile.open(p);
                    opened.put(shard, f);
                }
                if (!f.contains(e.getKey())) {
                    throw new SafetensorsException(index + ": tensor '" + e.getKey() + "' is listed in '" + shard + "' but that file does not hold it");
                }
                byTensor.put(e.getKey(), f);
            }
        } catch (RuntimeException e) {
            opened.values().forEach(SafetensorsFile::close);
            throw e;
        }
        return new SafetensorsShards(dir, List.copyOf(opened.values()), byTensor);
    }

    public Set<String> names() {
        return Collections.unmodifiableSet(byTensor.keySet());
    }

    public boolean contains(String name) {
        return byTensor.containsKey(name);
    }

    public TensorInfo info(String name) {
        return file(name).info(name);
    }

    public NDArray toNDArray(NDManager manager, String name) {
        return file(name).toNDArray(manager, name);
    }

    public float[] readFloats(String name) {
        return file(name).readFloats(name);
    }

    public void readFloats(String name, FloatBuffer into) {
        file(name).readFloats(name, into);
    }

    /** See {@link SafetensorsFile#readRaw}. */
    public void readRaw(String name, long firstElement, long count, java.nio.ByteBuffer into) {
        file(name).readRaw(name, firstElement, count, into);
    }

    private SafetensorsFile file(String name) {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) throw new SafetensorsException(dir + ": the checkpoint has no tensor '" + name + "'");
        return f;
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
