package dev.finadvisor.llm.safetensors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.util.JsonErrors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file opened for reading: the header is parsed and checked against the file once at
 * open, then tensors are read through memory mappings of at most {@link #MAX_MAPPING} bytes each, so
 * files and tensors past 2 GB read like any other. Float tensors (F32, F16, BF16, F64) convert to
 * fp32 in Java: DJL's bf16 support aborts the JVM.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The format's own limit; a larger claim is a corrupt or hostile file. */
    static final long MAX_HEADER_BYTES = 100L << 20;
    static final long MAX_MAPPING = 1L << 30;
    /** fp32 tensors above this are built from row slabs (a direct ByteBuffer holds at most 2 GB). */
    static final long MAX_SLAB_BYTES = 1L << 30;

    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors,
                            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens and validates {@code path}; every inconsistency is a {@link SafetensorsException} naming the file and tensor. */
    public static SafetensorsFile open(Path path) {
        refusePickle(path);
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new SafetensorsException(path + ": no such file");
        } catch (IOException e) {
            throw new SafetensorsException(path + ": cannot open: " + e.getMessage(), e);
        }
        try {
            long size = channel.size();
            if (size < 8) throw bad(path, "is " + size + " bytes long, shorter than the 8-byte header length: truncated or not a safetensors file");
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, len, 0);
            long headerLength = len.getLong(0);
            if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
                throw bad(path, "header length " + Long.toUnsignedString(headerLength) + " is outside 2.." + MAX_HEADER_BYTES
                        + " bytes: corrupt or not a safetensors file");
            }
            if (8 + headerLength > size) {
                throw bad(path, "header length " + headerLength + " runs past the end of the file (" + size
                        + " bytes): the file is truncated");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            readFully(channel, header, 8);
            long dataLength = size - 8 - headerLength;
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, TensorInfo> tensors = parseHeader(path, header.array(), dataLength, metadata);
            return new SafetensorsFile(path, channel, 8 + headerLength, tensors, metadata);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new SafetensorsException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    /** Pickle can run arbitrary code when loaded: we never read it. */
    static void refusePickle(Path path) {
        String name = path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (name.endsWith(".bin") || name.endsWith(".pt") || name.endsWith(".pth") || name.endsWith(".ckpt")) {
            throw new SafetensorsException(path + ": pickle weights are refused (loading them can run arbitrary code); "
                    + "convert the checkpoint to safetensors first, e.g. with transformers: "
                    + "AutoModelForCausalLM.from_pretrained(dir).save_pretrained(out, safe_serialization=True)");
        }
    }

    private static Map<String, TensorInfo> parseHeader(Path path, byte[] header, long dataLength, Map<String, String> metadata) {
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (JsonParseException e) {
            String msg = e.getOriginalMessage();
            if (msg != null && msg.startsWith("Duplicate field")) {
                throw bad(path, "header names a tensor twice: " + msg);
            }
            throw bad(path, "header is not valid JSON: " + msg);
        } catch (IOException e) {
            throw bad(path, "header is not valid JSON: " + JsonErrors.describe(e));
        }
        if (root == null || !root.isObject()) throw bad(path, "header is not a JSON object");
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            JsonNode node = field.getValue();
            if (name.equals("__metadata__")) {
                if (!node.isObject()) throw bad(path, "__metadata__ is not an object of strings");
                node.fields().forEachRemaining(m -> {
                    if (!m.getValue().isTextual()) {
                        throw bad(path, "__metadata__ entry '" + m.getKey() + "' is not a string");
                    }
                    metadata.put(m.getKey(), m.getValue().asText());
                });
                continue;
            }
            tensors.put(name, parseEntry(path, name, node, dataLength));
        }
        checkNoOverlap(path, tensors.values());
        return Collections.unmodifiableMap(tensors);
    }

    private static TensorInfo parseEntry(Path path, String name, JsonNode node, long dataLength) {
        String where = "tensor '" + name + "'";
        if (!node.isObject()) throw bad(path, where + ": entry is not an object");
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) throw bad(path, where + ": missing or non-string 'dtype'");
        Dtype dtype = Dtype.parse(dtypeNode.asText());
        if (dtype == null) {
            throw bad(path, where + ": unknown dtype '" + dtypeNode.asText() + "' (known: " + Dtype.known() + ")");
        }
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) throw bad(path, where + ": missing or non-array 'shape'");
        long[] shape = new long[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw bad(path, where + ": shape " + shapeNode + " has a dimension that is not a non-negative integer");
            }
            shape[i] = d.asLong();
            try {
                elements = Math.multiplyExact(elements, shape[i]);
            } catch (ArithmeticException e) {
                throw bad(path, where + ": shape " + shapeNode + " has more elements than fit in 64 bits");
            }
        }
        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw bad(path, where + ": 'data_offsets' must be an array [begin, end]");
        }
        for (JsonNode o : offsets) {
            if (!o.isIntegralNumber() || !o.canConvertToLong() || o.asLong() < 0) {
                throw bad(path, where + ": data_offsets " + offsets + " are not non-negative integers");
            }
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        if (begin > end) throw bad(path, where + ": data_offsets " + offsets + " end before they begin");
        if (end > dataLength) {
            throw bad(path, where + ": data_offsets " + offsets + " run past the end of the data (" + dataLength
                    + " bytes): the file is truncated or corrupt");
        }
        long expected;
        try {
            expected = Math.multiplyExact(elements, (long) dtype.bytes());
        } catch (ArithmeticException e) {
            throw bad(path, where + ": shape " + shapeNode + " x " + dtype + " overflows 64 bits");
        }
        if (expected != end - begin) {
            throw bad(path, where + ": shape " + shapeNode + " x " + dtype + " needs " + expected
                    + " bytes but data_offsets " + offsets + " span " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static void checkNoOverlap(Path path, Collection<TensorInfo> tensors) {
        List<TensorInfo> sorted = new ArrayList<>(tensors);
        sorted.removeIf(t -> t.byteLength() == 0);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin));
        for (int i = 1; i < sorted.size(); i++) {
            TensorInfo a = sorted.get(i - 1);
            TensorInfo b = sorted.get(i);
            if (a.end() > b.begin()) {
                throw bad(path, "tensors '" + a.name() + "' [" + a.begin() + ", " + a.end() + ") and '" + b.name()
                        + "' [" + b.begin() + ", " + b.end() + ") overlap: corrupt or hostile file");
            }
        }
    }

    public Path path() {
        return path;
    }

    public Map<String, String> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    /** Tensors in header order. */
    public Collection<TensorInfo> tensors() {
        return tensors.values();
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) throw new SafetensorsException(path + ": no tensor named '" + name + "'");
        return t;
    }

    /** A float tensor as fp32 values in row-major order; for tensors of at most 2^31-1 elements. */
    public float[] readFloats(String name) {
        TensorInfo t = requireFloat(info(name));
        long n = t.elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new SafetensorsException(path + ": tensor '" + name + "' has " + n + " elements, too many for a Java array; read it with toNDArray");
        }
        float[] out = new float[(int) n];
        readFloats(t, 0, n, FloatBuffer.wrap(out));
        return out;
    }

    /** A float tensor as fp32 values in row-major order into {@code into}, from its position on (it must have room). */
    public void readFloats(String name, FloatBuffer into) {
        TensorInfo t = requireFloat(info(name));
        if (into.remaining() < t.elementCount()) {
            throw new IllegalArgumentException(path + ": tensor '" + name + "' has " + t.elementCount() + " elements, room for " + into.remaining());
        }
        readFloats(t, 0, t.elementCount(), into);
    }

    /**
     * The raw little-endian bytes of elements {@code [firstElement, firstElement + count)} of a tensor (a row-major
     * slice, e.g. whole rows), into {@code into} from its position on: no conversion, for readers that convert
     * or pack the values themselves.
     */
    public void readRaw(String name, long firstElement, long count, ByteBuffer into) {
        TensorInfo t = info(name);
        if (firstElement < 0 || count < 0 || firstElement + count > t.elementCount()) {
            throw new IllegalArgumentException(path + ": elements [" + firstElement + ", " + (firstElement + count) + ") of tensor '" + name
                    + "', which has " + t.elementCount());
        }
        int width = t.dtype().bytes();
        // read, not mapped: pages of a mapping count in the process's RSS while mapped (up to 1 GiB at a time),
        // the page cache behind a read does not
        ByteBuffer dst = into.duplicate();
        dst.limit(Math.toIntExact(dst.position() + count * width));
        try {
            long position = dataStart + t.begin() + firstElement * width;
            while (dst.hasRemaining()) {
                int n = channel.read(dst, position);
                if (n < 0) throw new SafetensorsException(path + ": tensor '" + name + "' ends past the end of the file; is it truncated?");
                position += n;
            }
        } catch (IOException e) {
            throw new SafetensorsException(path + ": cannot read tensor '" + name + "': " + e.getMessage(), e);
        }
        into.position(dst.position());
    }

    /** The tensor's raw little-endian bytes, whatever its dtype (at most 2^31-1 bytes). */
    public ByteBuffer readBytes(String name) {
        TensorInfo t = info(name);
        if (t.byteLength() > Integer.MAX_VALUE - 8) {
            throw new SafetensorsException(path + ": tensor '" + name + "' is " + t.byteLength() + " bytes, too large for one buffer");
        }
        ByteBuffer out = ByteBuffer.allocate((int) t.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
        forEachMapping(t, t.begin(), t.byteLength(), out::put);
        return out.flip();
    }

    /**
     * The tensor as an NDArray of {@code manager}: float dtypes become FLOAT32, integer and bool dtypes
     * keep their type. The array wraps a direct buffer filled here (DJL does not copy it again), so a
     * model's weights are held once.
     */
    public NDArray toNDArray(NDManager manager, String name) {
        TensorInfo t = info(name);
        Shape shape = new Shape(t.shape());
        if (!t.dtype().isFloat()) {
            ByteBuffer direct = allocate(t, t.byteLength());
            forEachMapping(t, t.begin(), t.byteLength(), direct::put);
            direct.flip();
            return manager.create(direct, shape, switch (t.dtype()) {
                case I64 -> DataType.INT64;
                case I32 -> DataType.INT32;
                case I8 -> DataType.INT8;
                case U8 -> DataType.UINT8;
                case BOOL -> DataType.BOOLEAN;
                case I16 -> throw new SafetensorsException(path + ": tensor '" + name + "': I16 tensors are not supported by the engine");
                default -> throw new AssertionError(t.dtype());
            });
        }
        long n = t.elementCount();
        if (n * 4 <= MAX_SLAB_BYTES || shape.dimension() == 0) {
            return floatSlab(manager, t, 0, n, shape);
        }
        // Too big for one direct buffer: read row slabs and concatenate in native memory.
        long rows = shape.get(0);
        long rowElements = n / rows;
        long rowsPerSlab = Math.max(1, MAX_SLAB_BYTES / (rowElements * 4));
        try (NDManager scratch = manager.newSubManager()) {
            NDList slabs = new NDList();
            for (long r = 0; r < rows; r += rowsPerSlab) {
                long count = Math.min(rowsPerSlab, rows - r);
                long[] slabShape = t.shape().clone();
                slabShape[0] = count;
                slabs.add(floatSlab(scratch, t, r * rowElements, count * rowElements, new Shape(slabShape)));
            }
            NDArray whole = NDArrays.concat(slabs, 0);
            whole.attach(manager);
            return whole;
        }
    }

    private NDArray floatSlab(NDManager manager, TensorInfo t, long firstElement, long count, Shape shape) {
        ByteBuffer direct = allocate(t, count * 4);
        readFloats(t, firstElement, count, direct.asFloatBuffer());
        return manager.create(direct, shape, DataType.FLOAT32);
    }

    private ByteBuffer allocate(TensorInfo t, long bytes) {
        try {
            return ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.nativeOrder());
        } catch (OutOfMemoryError e) {
            throw new SafetensorsException(path + ": not enough direct memory for tensor '" + t.name() + "' (" + (bytes >> 20)
                    + " MiB); raise -XX:MaxDirectMemorySize (FINADVISOR_JAVA_OPTS) or use a machine with more memory", e);
        }
    }

    private static TensorInfo requireFloat(TensorInfo t) {
        if (!t.dtype().isFloat()) throw new SafetensorsException("tensor '" + t.name() + "' is " + t.dtype() + ", not a float tensor");
        return t;
    }

    /** Converts {@code count} elements starting at {@code firstElement} to fp32 into {@code dst}. */
    private void readFloats(TensorInfo t, long firstElement, long count, FloatBuffer dst) {
        int width = t.dtype().bytes();
        int first = dst.position(); // the mappings fill dst in order: its position says which element comes next
        forEachMapping(t, t.begin() + firstElement * width, count * width, src -> {
            int start = dst.position();
            switch (t.dtype()) {
                case F32 -> dst.put(src.asFloatBuffer());
                case F64 -> {
                    var d = src.asDoubleBuffer();
                    while (d.hasRemaining()) dst.put((float) d.get());
                }
                case BF16 -> {
                    ShortBuffer s = src.asShortBuffer();
                    while (s.hasRemaining()) dst.put(HalfFloats.bf16ToFloat(s.get()));
                }
                case F16 -> {
                    ShortBuffer s = src.asShortBuffer();
                    while (s.hasRemaining()) dst.put(HalfFloats.f16ToFloat(s.get()));
                }
                default -> throw new AssertionError(t.dtype());
            }
            // NaN or infinite weights would generate garbage silently: refuse them as they are read
            for (int i = start; i < dst.position(); i++) {
                float v = dst.get(i);
                if (!Float.isFinite(v)) {
                    throw new SafetensorsException(path + ": tensor '" + t.name() + "' holds " + v + " at element " + (firstElement + i - first)
                            + " of " + t.elementCount() + ": the checkpoint is damaged (weights must be finite)");
                }
            }
        });
    }

    /** Maps [begin, begin+length) of the data section in pieces of at most {@link #MAX_MAPPING} bytes. */
    private void forEachMapping(TensorInfo t, long begin, long length, java.util.function.Consumer<ByteBuffer> piece) {
        long done = 0;
        try {
            while (done < length) {
                long n = Math.min(MAX_MAPPING, length - done);
                MappedByteBuffer map = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + begin + done, n);
                map.order(ByteOrder.LITTLE_ENDIAN);
                try {
                    piece.accept(map);
                } finally {
                    Unmapper.unmap(map);
                }
                done += n;
            }
        } catch (IOException e) {
            throw new SafetensorsException(path + ": cannot read tensor '" + t.name() + "': " + e.getMessage(), e);
        } catch (InternalError e) {
            // The JVM turns a fault on a mapping of a file shrunk under us into InternalError.
            throw new SafetensorsException(path + ": tensor '" + t.name() + "' could not be read; was the file truncated while open?", e);
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer dst, long position) throws IOException {
        while (dst.hasRemaining()) {
            int n = channel.read(dst, position);
            if (n < 0) throw new IOException("unexpected end of file");
            position += n;
        }
        dst.flip();
    }

    private static SafetensorsException bad(Path path, String what) {
        return new SafetensorsException(path + ": " + what);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // already failing with a better message
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new SafetensorsException(path + ": cannot close: " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return path + " (" + tensors.size() + " tensors: " + Arrays.toString(tensors.keySet().stream().limit(3).toArray()) + "...)";
    }
}
