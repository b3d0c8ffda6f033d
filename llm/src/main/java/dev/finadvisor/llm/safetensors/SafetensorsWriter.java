package dev.finadvisor.llm.safetensors;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Collects named tensors and string metadata and writes them as one safetensors file, atomically:
 * to a temporary file in the same folder, flushed, then renamed over the target, so a reader never
 * sees half a file.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Writes a tensor's bytes in order, one chunk at a time: fills {@code chunk} from its position to its limit. */
    @FunctionalInterface
    public interface Filler {
        void fill(ByteBuffer chunk);
    }

    /** A tensor's bytes: held ({@code data}), or made while the file is written ({@code filler}, {@code length} bytes). */
    private record Entry(Dtype dtype, long[] shape, long length, ByteBuffer data, Filler filler) {}

    private static final int FILL_CHUNK = 16 << 20;

    private final Map<String, Entry> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata = new TreeMap<>();

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Adds a tensor from its little-endian bytes. */
    public SafetensorsWriter add(String name, Dtype dtype, long[] shape, ByteBuffer littleEndianData) {
        long bytes = byteLength(name, dtype, shape);
        ByteBuffer data = littleEndianData.duplicate();
        if (data.remaining() != bytes) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " x " + dtype
                    + " needs " + bytes + " bytes, got " + data.remaining());
        }
        tensors.put(name, new Entry(dtype, shape.clone(), bytes, data, null));
        return this;
    }

    /**
     * Adds a tensor whose little-endian bytes {@code filler} makes when the file is written, in chunks, in the order the
     * tensors were added: a file larger than memory can be written.
     */
    public SafetensorsWriter add(String name, Dtype dtype, long[] shape, Filler filler) {
        tensors.put(name, new Entry(dtype, shape.clone(), byteLength(name, dtype, shape), null, filler));
        return this;
    }

    private long byteLength(String name, Dtype dtype, long[] shape) {
        if (name.equals("__metadata__")) throw new IllegalArgumentException("'__metadata__' is reserved, not a tensor name");
        if (tensors.containsKey(name)) throw new IllegalArgumentException("tensor '" + name + "' added twice");
        long elements = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("tensor '" + name + "': negative dimension in " + Arrays.toString(shape));
            elements = Math.multiplyExact(elements, d);
        }
        return Math.multiplyExact(elements, dtype.bytes());
    }

    /** Bytes of tensor data added so far. */
    public long dataBytes() {
        return tensors.values().stream().mapToLong(Entry::length).sum();
    }

    /** Adds fp32 values stored as {@code dtype} (F32, F16 or BF16; rounding to nearest even). */
    public SafetensorsWriter addFloats(String name, long[] shape, float[] values, Dtype dtype) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> buf.asFloatBuffer().put(values);
            case F16 -> { for (float v : values) buf.putShort(HalfFloats.floatToF16(v)); }
            case BF16 -> { for (float v : values) buf.putShort(HalfFloats.floatToBf16(v)); }
            default -> throw new IllegalArgumentException("tensor '" + name + "': cannot store floats as " + dtype);
        }
        return add(name, dtype, shape, buf.rewind());
    }

    public SafetensorsWriter addFloats(String name, long[] shape, float[] values) {
        return addFloats(name, shape, values, Dtype.F32);
    }

    /**
     * Adds an NDArray with its own element type (FLOAT32, FLOAT16, INT64, INT32, INT8, UINT8, BOOLEAN); a contiguous CPU
     * tensor's bytes are read from its memory when the file is written, so it must stay open until {@link #write}.
     */
    public SafetensorsWriter add(String name, NDArray array) {
        Dtype dtype = switch (array.getDataType()) {
            case FLOAT32 -> Dtype.F32;
            case FLOAT16 -> Dtype.F16;
            case FLOAT64 -> Dtype.F64;
            case INT64 -> Dtype.I64;
            case INT32 -> Dtype.I32;
            case INT8 -> Dtype.I8;
            case UINT8 -> Dtype.U8;
            case BOOLEAN -> Dtype.BOOL;
            default -> throw new IllegalArgumentException("tensor '" + name + "': cannot write " + array.getDataType());
        };
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) throw new UnsupportedOperationException("big-endian hosts are not supported");
        ByteBuffer view = array.toByteBuffer(true);
        if (view.isDirect()) { // the tensor's own memory: read as the file is written, no copy on the heap (the tensor must stay open)
            long[] next = {0};
            return add(name, dtype, array.getShape().getShape(), chunk -> {
                int n = chunk.remaining();
                chunk.put(view.slice((int) next[0], n));
                next[0] += n;
            });
        }
        return add(name, dtype, array.getShape().getShape(), view.order(ByteOrder.LITTLE_ENDIAN));
    }

    /** Writes the file atomically; the target's folder must exist. */
    public void write(Path target) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", e.getValue().dtype().name());
            ArrayNode shape = t.putArray("shape");
            for (long d : e.getValue().shape()) shape.add(d);
            long length = e.getValue().length();
            t.putArray("data_offsets").add(offset).add(offset + length);
            offset += length;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8; // keeps the data section 8-byte aligned, as the reference writer does
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();

        Path dir = target.toAbsolutePath().getParent();
        // CREATE_NEW (not createTempFile) so the file gets the usual umask permissions, not 0600
        Path tmp = dir.resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
                writeFully(out, head);
                ByteBuffer chunk = null;
                for (Entry e : tensors.values()) {
                    if (e.data() != null) {
                        writeFully(out, e.data().duplicate());
                        continue;
                    }
                    if (chunk == null) chunk = ByteBuffer.allocate(FILL_CHUNK).order(ByteOrder.LITTLE_ENDIAN);
                    for (long done = 0; done < e.length(); ) {
                        int n = (int) Math.min(FILL_CHUNK, e.length() - done);
                        chunk.clear().limit(n);
                        e.filler().fill(chunk);
                        if (chunk.hasRemaining()) throw new IllegalStateException("a filler left " + chunk.remaining() + " bytes of a chunk unwritten");
                        writeFully(out, chunk.flip());
                        done += n;
                    }
                }
                out.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer data) throws IOException {
        while (data.hasRemaining()) out.write(data);
    }
}
