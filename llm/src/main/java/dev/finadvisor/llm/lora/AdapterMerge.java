package dev.finadvisor.llm.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.safetensors.HalfFloats;
import dev.finadvisor.llm.safetensors.SafetensorsFile;
import dev.finadvisor.llm.safetensors.SafetensorsShards;
import dev.finadvisor.llm.safetensors.SafetensorsWriter;
import dev.finadvisor.llm.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Folds a LoRA adapter into its base checkpoint: {@code W' = W + scale * B A} for every adapted
 * module, every other tensor copied byte for byte, shards and index kept, dtypes kept (fp16/bf16
 * weights are merged in fp32 and rounded back once). The result is an ordinary Hugging Face
 * checkpoint folder that loads here and in transformers without PEFT. Every tensor streams from the
 * base shard to the new one a block of rows at a time, so a 7B model merges in a few MB of memory.
 * Written to a temporary folder and renamed, so a failed export leaves nothing half-written.
 */
public final class AdapterMerge {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AdapterMerge() {}

    /** Merges {@code adapter} into the checkpoint at {@code modelDir}, writing {@code outDir}; returns the modules merged. */
    public static int merge(Path modelDir, PeftAdapter adapter, Path outDir) throws IOException {
        return merge(modelDir, adapter, outDir, BLOCK_BYTES);
    }

    /** The same, a merged weight made {@code blockBytes} (whole rows, at least one) at a time. */
    static int merge(Path modelDir, PeftAdapter adapter, Path outDir, int blockBytes) throws IOException {
        if (Files.exists(outDir)) throw new UserError(outDir + " already exists; choose a new --out folder");
        List<String> shardFiles = shardFiles(modelDir);
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
            // every tensor is streamed from the base shard into the new one as the file is written: a block of rows
            // at a time, so the memory held is a few MB whatever the size of the shard or the model
            try (SafetensorsFile shard = SafetensorsFile.open(modelDir.resolve(shardName))) {
                SafetensorsWriter writer = new SafetensorsWriter();
                shard.metadata().forEach(writer::metadata);
                for (TensorInfo t : shard.tensors()) {
                    String name = t.name();
                    String module = name.endsWith(".weight") ? name.substring(0, name.length() - ".weight".length()) : null;
                    LoraWeights w = module == null ? null : adapter.modules().get(module);
                    if (w != null) {
                        writer.add(name, t.dtype(), t.shape(), new MergedRows(shard, t, w, adapter.config().scale(), blockBytes));
                        merged++;
                    } else {
                        writer.add(name, t.dtype(), t.shape(), copy(shard, t));
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

    /** The bytes of a merged weight made at a time (whole rows): what the merge holds besides the adapter. */
    static final int BLOCK_BYTES = 4 << 20;

    /** Copies a tensor's bytes as they are, a writer's chunk at a time. */
    private static SafetensorsWriter.Filler copy(SafetensorsFile shard, TensorInfo t) {
        int width = t.dtype().bytes();
        long[] next = {0}; // the next element to copy
        return chunk -> {
            long count = chunk.remaining() / width;
            shard.readRaw(t.name(), next[0], count, chunk);
            next[0] += count;
        };
    }

    /**
     * A merged weight {@code W + scale * B A} [out, in], made a block of rows at a time as the writer asks for bytes:
     * the base rows are read in their dtype, widened to fp32, the update's rows added, and rounded back once.
     */
    private static final class MergedRows implements SafetensorsWriter.Filler {
        private final SafetensorsFile shard;
        private final TensorInfo t;
        private final LoraWeights w;
        private final double scale;
        private final int rowsPerBlock;
        private int nextRow;
        private ByteBuffer block = ByteBuffer.allocate(0);

        MergedRows(SafetensorsFile shard, TensorInfo t, LoraWeights w, double scale, int blockBytes) {
            if (!t.dtype().isFloat() || t.dtype().bytes() > 4) throw new UserError(shard.path() + ": cannot merge into '" + t.name() + "', a " + t.dtype() + " tensor");
            this.shard = shard;
            this.t = t;
            this.w = w;
            this.scale = scale;
            this.rowsPerBlock = Math.max(1, blockBytes / (w.in() * t.dtype().bytes()));
        }

        @Override
        public void fill(ByteBuffer chunk) {
            while (chunk.hasRemaining()) {
                if (!block.hasRemaining()) block = nextBlock();
                int n = Math.min(chunk.remaining(), block.remaining());
                chunk.put(block.slice(block.position(), n));
                block.position(block.position() + n);
            }
        }

        private ByteBuffer nextBlock() {
            int in = w.in();
            int rows = Math.min(rowsPerBlock, w.out() - nextRow);
            ByteBuffer raw = ByteBuffer.allocate(rows * in * t.dtype().bytes()).order(ByteOrder.LITTLE_ENDIAN);
            shard.readRaw(t.name(), (long) nextRow * in, (long) rows * in, raw);
            raw.flip();
            float[] row = new float[in];
            for (int o = nextRow; o < nextRow + rows; o++) {
                int at = raw.position();
                for (int i = 0; i < in; i++) {
                    row[i] = switch (t.dtype()) {
                        case F32 -> raw.getFloat();
                        case BF16 -> HalfFloats.bf16ToFloat(raw.getShort());
                        case F16 -> HalfFloats.f16ToFloat(raw.getShort());
                        default -> throw new IllegalStateException(t.dtype().name());
                    };
                }
                w.addDeltaRow(o, scale, row);
                raw.position(at);
                for (float v : row) {
                    switch (t.dtype()) {
                        case F32 -> raw.putFloat(v);
                        case BF16 -> raw.putShort(HalfFloats.floatToBf16(v));
                        default -> raw.putShort(HalfFloats.floatToF16(v));
                    }
                }
            }
            nextRow += rows;
            return raw.flip();
        }
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
