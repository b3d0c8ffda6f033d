package dev.finadvisor.llm.lowbit;

import dev.finadvisor.llm.EngineMemory;
import dev.finadvisor.llm.safetensors.Dtype;
import dev.finadvisor.llm.safetensors.HalfFloats;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * A weight matrix {@code [rows, cols]} packed in Java memory as bf16, int8 or NF4, for generation: the decoder reads
 * it in place a row at a time ({@link #dot}), the engine's matrix product gets fp32 rows dequantised on demand
 * ({@link #dequantize}). Each row is padded with zeros to a multiple of {@value #GROUP} weights; int8 and NF4 rows are
 * groups of {@value #GROUP} weights, each a fp32 scale followed by the codes (int8: {@code w = q * scale}, q in
 * -127..127; NF4: {@code w = code[q] * absmax}, byte j of a group holding weight j in its low nibble and weight j + 32
 * in its high one). Rows live in slabs of at most 1 GiB, so a matrix may exceed the 2 GiB of one buffer.
 */
public final class PackedWeight {
    public static final int GROUP = 64;
    static final long MAX_SLAB_BYTES = 1L << 30;
    /** The SIMD loops run where the Vector API is present with 8 or 16 floats a vector; elsewhere scalar loops. */
    private static final boolean SIMD = EngineMemory.VECTOR_API && PackedKernels.usable();

    private final WeightFormat format;
    private final int rows;
    private final int cols;
    private final int stride;
    private final int rowBytes;
    private final int rowsPerSlab;
    private final ByteBuffer[] slabs;

    private PackedWeight(WeightFormat format, int rows, int cols) {
        if (!format.packed()) throw new IllegalArgumentException(format + " is not a packed format");
        this.format = format;
        this.rows = rows;
        this.cols = cols;
        this.stride = (cols + GROUP - 1) / GROUP * GROUP;
        this.rowBytes = rowBytes(format, stride);
        this.rowsPerSlab = (int) Math.max(1, Math.min(rows, MAX_SLAB_BYTES / rowBytes));
        int count = (rows + rowsPerSlab - 1) / rowsPerSlab;
        slabs = new ByteBuffer[count];
        for (int s = 0; s < count; s++) {
            int n = Math.min(rowsPerSlab, rows - s * rowsPerSlab);
            slabs[s] = ByteBuffer.allocateDirect(n * rowBytes).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** An all-zero matrix, to be filled by {@link #packRow}. */
    public static PackedWeight allocate(WeightFormat format, int rows, int cols) {
        return new PackedWeight(format, rows, cols);
    }

    /** Bytes a {@code [rows, cols]} matrix takes in {@code format} (packed or fp32). */
    public static long bytes(WeightFormat format, long rows, long cols) {
        if (!format.packed()) return 4 * rows * cols;
        return rows * rowBytes(format, (cols + GROUP - 1) / GROUP * GROUP);
    }

    private static int rowBytes(WeightFormat format, long stride) {
        long groups = stride / GROUP;
        return Math.toIntExact(switch (format) {
            case BF16 -> 2 * stride;
            case INT8 -> groups * (4 + GROUP);
            case NF4 -> groups * (4 + GROUP / 2);
            default -> throw new IllegalArgumentException(format.toString());
        });
    }

    public WeightFormat format() {
        return format;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Bytes held, padding and scales included. */
    public long bytes() {
        return (long) rows * rowBytes;
    }

    private ByteBuffer slab(int row) {
        return slabs[row / rowsPerSlab];
    }

    private int offset(int row) {
        return (row % rowsPerSlab) * rowBytes;
    }

    /**
     * Packs row {@code row} from {@code cols} values of {@code dtype} at byte {@code at} of {@code src} (little-endian, as a
     * safetensors file holds them), using {@code scratch} (at least {@code cols} floats); returns the index of the first
     * value that is not finite, or -1. Rows are independent: threads may pack different rows at once.
     */
    public int packRow(int row, ByteBuffer src, int at, Dtype dtype, float[] scratch) {
        ByteBuffer dst = slab(row);
        int off = offset(row);
        if (format == WeightFormat.BF16 && dtype == Dtype.BF16) { // the checkpoint's own bits: a copy
            for (int i = 0; i < cols; i++) {
                short bits = src.getShort(at + 2 * i);
                if ((bits & 0x7f80) == 0x7f80) return i; // exponent all ones: infinity or NaN
                dst.putShort(off + 2 * i, bits);
            }
            return -1;
        }
        for (int i = 0; i < cols; i++) {
            float v = switch (dtype) {
                case F32 -> src.getFloat(at + 4 * i);
                case BF16 -> HalfFloats.bf16ToFloat(src.getShort(at + 2 * i));
                case F16 -> HalfFloats.f16ToFloat(src.getShort(at + 2 * i));
                case F64 -> (float) src.getDouble(at + 8 * i);
                default -> throw new IllegalArgumentException(dtype + " is not a float type");
            };
            if (!Float.isFinite(v)) return i;
            scratch[i] = v;
        }
        switch (format) {
            case BF16 -> {
                for (int i = 0; i < cols; i++) dst.putShort(off + 2 * i, HalfFloats.floatToBf16(scratch[i]));
            }
            case INT8 -> packInt8(scratch, dst, off);
            case NF4 -> packNf4(scratch, dst, off);
            default -> throw new AssertionError(format);
        }
        return -1;
    }

    private void packInt8(float[] w, ByteBuffer dst, int off) {
        for (int g = 0; g < stride; g += GROUP, off += 4 + GROUP) {
            int end = Math.min(cols, g + GROUP);
            float max = 0;
            for (int i = g; i < end; i++) max = Math.max(max, Math.abs(w[i]));
            float scale = max / 127f;
            dst.putFloat(off, scale);
            for (int i = g; i < end; i++) dst.put(off + 4 + i - g, (byte) (scale == 0 ? 0 : Math.round(w[i] / scale)));
        }
    }

    private void packNf4(float[] w, ByteBuffer dst, int off) {
        for (int g = 0; g < stride; g += GROUP, off += 4 + GROUP / 2) {
            float max = 0;
            for (int i = g, end = Math.min(cols, g + GROUP); i < end; i++) max = Math.max(max, Math.abs(w[i]));
            dst.putFloat(off, max);
            for (int j = 0; j < GROUP / 2; j++) {
                int low = nf4Code(w, g + j, max);
                int high = nf4Code(w, g + j + GROUP / 2, max);
                dst.put(off + 4 + j, (byte) (low | high << 4));
            }
        }
    }

    private int nf4Code(float[] w, int i, float absmax) {
        if (i >= cols || absmax == 0) return 7; // the exact zero
        return Nf4Code.nearest(w[i] / absmax);
    }

    /** Rows {@code [first, first + count)} as fp32, {@code cols} values a row, into {@code out} from its position on. */
    public void dequantize(int first, int count, FloatBuffer out) {
        for (int r = first; r < first + count; r++) {
            ByteBuffer w = slab(r);
            int off = offset(r);
            switch (format) {
                case BF16 -> {
                    for (int i = 0; i < cols; i++) out.put(HalfFloats.bf16ToFloat(w.getShort(off + 2 * i)));
                }
                case INT8 -> {
                    for (int g = 0; g < cols; g += GROUP, off += 4 + GROUP) {
                        float scale = w.getFloat(off);
                        for (int i = g, end = Math.min(cols, g + GROUP); i < end; i++) out.put(w.get(off + 4 + i - g) * scale);
                    }
                }
                case NF4 -> {
                    for (int g = 0; g < cols; g += GROUP, off += 4 + GROUP / 2) {
                        float absmax = w.getFloat(off);
                        for (int i = g, end = Math.min(cols, g + GROUP); i < end; i++) {
                            int j = i - g;
                            int b = w.get(off + 4 + (j % (GROUP / 2)));
                            out.put(Nf4Code.value(j < GROUP / 2 ? b & 15 : (b >> 4) & 15) * absmax);
                        }
                    }
                }
                default -> throw new AssertionError(format);
            }
        }
    }

    /** Room {@link #prepare} needs. */
    public int preparedLength() {
        return stride;
    }

    /** Arranges the input {@code x} (at least {@code cols} values) as {@link #dot} reads it, into {@code into}. */
    public void prepare(float[] x, float[] into) {
        if (SIMD && format == WeightFormat.BF16) {
            float[] padded = new float[stride];
            System.arraycopy(x, 0, padded, 0, cols);
            PackedKernels.interleave(padded, stride, into);
        } else {
            System.arraycopy(x, 0, into, 0, cols);
            java.util.Arrays.fill(into, cols, stride, 0f);
        }
    }

    /** Row {@code row} times the input {@link #prepare prepared} in {@code x}. */
    public float dot(int row, float[] x) {
        ByteBuffer w = slab(row);
        int off = offset(row);
        if (SIMD) {
            return switch (format) {
                case BF16 -> PackedKernels.bf16(w, off, x, stride);
                case INT8 -> PackedKernels.int8(w, off, x, stride / GROUP);
                case NF4 -> PackedKernels.nf4(w, off, x, stride / GROUP);
                default -> throw new AssertionError(format);
            };
        }
        float[] values = new float[cols];
        dequantize(row, 1, FloatBuffer.wrap(values));
        float sum = 0;
        for (int i = 0; i < cols; i++) sum += values[i] * x[i];
        return sum;
    }
}
