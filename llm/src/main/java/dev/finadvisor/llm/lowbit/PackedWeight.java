package dev.finadvisor.llm.lowbit;

import dev.finadvisor.llm.EngineMemory;
import dev.finadvisor.llm.safetensors.Dtype;
import dev.finadvisor.llm.safetensors.HalfFloats;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * A weight matrix {@code [rows, cols]} packed in Java arrays as bf16, int8 or NF4, for generation: the decoder reads it
 * in place a row at a time ({@link #dot}), the engine's matrix product gets fp32 rows dequantised on demand
 * ({@link #dequantize}). Each row is padded with zeros to a multiple of {@value #GROUP} weights. bf16 rows are ints of
 * two weights (the even one in the low half); int8 and NF4 rows are groups of {@value #GROUP} codes with one fp32 scale
 * each (int8: {@code w = q * scale}, q in -127..127; NF4: {@code w = code[q] * absmax}, 32 bytes a group, byte j holding
 * weight j in its low nibble and weight j + 32 in its high one). Rows live in slabs of at most 1 GiB, so a matrix may
 * exceed what one Java array holds; small matrices share a model's {@link PackedArena}. Arrays (not direct buffers)
 * because Java 17's Vector API reads them faster.
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
    /** Ints (bf16) or code bytes (int8, NF4) one row takes in its slab's array. */
    private final int rowLength;
    private final int groups;
    private final int rowsPerSlab;
    /** bf16: two weights an int; each slab from its base. */
    private final int[][] pairs;
    /** int8 and NF4 codes. */
    private final byte[][] codes;
    /** int8 and NF4: a scale per group. */
    private final float[][] scales;
    /** Where each slab starts in its array: of pairs or codes, and of scales. */
    private final int[] base;
    private final int[] scaleBase;

    private PackedWeight(WeightFormat format, int rows, int cols, long rowsPerSlab, PackedArena arena) {
        if (!format.packed()) throw new IllegalArgumentException(format + " is not a packed format");
        this.format = format;
        this.rows = rows;
        this.cols = cols;
        this.stride = padded(cols);
        this.groups = stride / GROUP;
        this.rowLength = format == WeightFormat.INT8 ? stride : stride / 2; // bf16: two weights an int; NF4: two a byte
        this.rowsPerSlab = (int) Math.max(1, Math.min(rows, rowsPerSlab));
        int slabs = (rows + this.rowsPerSlab - 1) / this.rowsPerSlab;
        pairs = format == WeightFormat.BF16 ? new int[slabs][] : null;
        codes = format == WeightFormat.BF16 ? null : new byte[slabs][];
        scales = format == WeightFormat.BF16 ? null : new float[slabs][];
        base = new int[slabs];
        scaleBase = new int[slabs];
        for (int s = 0; s < slabs; s++) {
            int n = Math.min(this.rowsPerSlab, rows - s * this.rowsPerSlab);
            switch (format) {
                case BF16 -> {
                    PackedArena.Range<int[]> r = arena.ints(n * rowLength);
                    pairs[s] = r.array();
                    base[s] = r.offset();
                }
                case INT8, NF4 -> {
                    PackedArena.Range<byte[]> r = arena.bytes(n * rowLength);
                    codes[s] = r.array();
                    base[s] = r.offset();
                    PackedArena.Range<float[]> f = arena.floats(n * groups);
                    scales[s] = f.array();
                    scaleBase[s] = f.offset();
                }
                default -> throw new AssertionError(format);
            }
        }
    }

    /** An all-zero matrix in arrays of its own, to be filled by {@link #packRow}. */
    public static PackedWeight allocate(WeightFormat format, int rows, int cols) {
        return allocate(format, rows, cols, new PackedArena());
    }

    /** An all-zero matrix in {@code arena}'s arrays. */
    public static PackedWeight allocate(WeightFormat format, int rows, int cols, PackedArena arena) {
        return new PackedWeight(format, rows, cols, MAX_SLAB_BYTES / Math.max(1, bytes(format, 1, cols)), arena);
    }

    /** The same in slabs of {@code rowsPerSlab} rows (tests of matrices spanning slabs). */
    static PackedWeight allocate(WeightFormat format, int rows, int cols, int rowsPerSlab) {
        return new PackedWeight(format, rows, cols, rowsPerSlab, new PackedArena());
    }

    /** Bytes a {@code [rows, cols]} matrix takes in {@code format} (packed or fp32). */
    public static long bytes(WeightFormat format, long rows, long cols) {
        if (!format.packed()) return 4 * rows * cols;
        long stride = padded(cols);
        long groups = stride / GROUP;
        return rows * switch (format) {
            case BF16 -> 2 * stride;
            case INT8 -> stride + 4 * groups;
            case NF4 -> stride / 2 + 4 * groups;
            default -> throw new IllegalArgumentException(format.toString());
        };
    }

    /** {@code cols} rounded up to whole groups. */
    private static int padded(long cols) {
        return Math.toIntExact((cols + GROUP - 1) / GROUP * GROUP);
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
        return bytes(format, rows, cols);
    }

    private int slab(int row) {
        if (row < 0 || row >= rows) throw new IndexOutOfBoundsException("row " + row + " of " + rows);
        return row / rowsPerSlab;
    }

    /** Index of {@code row}'s first group within its slab. */
    private int group(int row) {
        return (row % rowsPerSlab) * groups;
    }

    /** Index of {@code row}'s first int (bf16) or code byte in its slab's array. */
    private int start(int s, int row) {
        return base[s] + (row % rowsPerSlab) * rowLength;
    }

    /**
     * Packs row {@code row} from {@code cols} values of {@code dtype} at byte {@code at} of {@code src} (little-endian, as a
     * safetensors file holds them), using {@code scratch} (at least {@code cols} floats); returns the index of the first
     * value that is not finite, or -1. Rows are independent: threads may pack different rows at once.
     */
    public int packRow(int row, ByteBuffer src, int at, Dtype dtype, float[] scratch) {
        int s = slab(row);
        int at0 = start(s, row);
        int sc0 = scaleBase[s] + group(row);
        if (format == WeightFormat.BF16 && dtype == Dtype.BF16) { // the checkpoint's own bits
            int[] dst = pairs[s];
            for (int i = 0; i < cols; i += 2) {
                int low = src.getShort(at + 2 * i) & 0xffff;
                int high = i + 1 < cols ? src.getShort(at + 2 * i + 2) & 0xffff : 0;
                if ((low & 0x7f80) == 0x7f80) return i; // exponent all ones: infinity or NaN
                if ((high & 0x7f80) == 0x7f80) return i + 1;
                dst[at0 + i / 2] = low | high << 16;
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
        Arrays.fill(scratch, cols, Math.min(scratch.length, stride), 0f);
        switch (format) {
            case BF16 -> {
                for (int i = 0; i < cols; i += 2) {
                    int low = HalfFloats.floatToBf16(scratch[i]) & 0xffff;
                    int high = i + 1 < cols ? HalfFloats.floatToBf16(scratch[i + 1]) & 0xffff : 0;
                    pairs[s][at0 + i / 2] = low | high << 16;
                }
            }
            case INT8 -> {
                for (int g = 0; g < groups; g++) {
                    float scale = absmax(scratch, g) / 127f;
                    scales[s][sc0 + g] = scale;
                    for (int i = g * GROUP; i < Math.min(cols, (g + 1) * GROUP); i++) {
                        codes[s][at0 + i] = (byte) (scale == 0 ? 0 : Math.round(scratch[i] / scale));
                    }
                }
            }
            case NF4 -> {
                for (int g = 0; g < groups; g++) {
                    float absmax = absmax(scratch, g);
                    scales[s][sc0 + g] = absmax;
                    for (int j = 0; j < GROUP / 2; j++) {
                        int low = nf4Code(scratch, g * GROUP + j, absmax);
                        int high = nf4Code(scratch, g * GROUP + j + GROUP / 2, absmax);
                        codes[s][at0 + g * GROUP / 2 + j] = (byte) (low | high << 4);
                    }
                }
            }
            default -> throw new AssertionError(format);
        }
        return -1;
    }

    private float absmax(float[] w, int group) {
        float max = 0;
        for (int i = group * GROUP, end = Math.min(cols, (group + 1) * GROUP); i < end; i++) max = Math.max(max, Math.abs(w[i]));
        return max;
    }

    private int nf4Code(float[] w, int i, float absmax) {
        if (i >= cols || absmax == 0) return 7; // the exact zero
        return Nf4Code.nearest(w[i] / absmax);
    }

    /** Rows {@code [first, first + count)} as fp32, {@code cols} values a row, into {@code out} from its position on. */
    public void dequantize(int first, int count, FloatBuffer out) {
        float[] row = new float[stride];
        for (int r = first; r < first + count; r++) {
            dequantizeRow(r, row);
            out.put(row, 0, cols);
        }
    }

    /** Row {@code row} as fp32 into {@code out} (at least the padded length, {@link #preparedLength()}). */
    private void dequantizeRow(int row, float[] out) {
        int s = slab(row);
        int at0 = start(s, row);
        int sc0 = scaleBase[s] + group(row);
        switch (format) {
            case BF16 -> {
                int[] w = pairs[s];
                for (int i = 0, o = at0; i < stride; i += 2, o++) {
                    out[i] = Float.intBitsToFloat(w[o] << 16);
                    out[i + 1] = Float.intBitsToFloat(w[o] & 0xFFFF0000);
                }
            }
            case INT8 -> {
                byte[] q = codes[s];
                for (int g = 0; g < groups; g++) {
                    float scale = scales[s][sc0 + g];
                    for (int i = g * GROUP, o = at0 + g * GROUP; i < (g + 1) * GROUP; i++, o++) out[i] = q[o] * scale;
                }
            }
            case NF4 -> {
                byte[] q = codes[s];
                for (int g = 0; g < groups; g++) {
                    float absmax = scales[s][sc0 + g];
                    for (int j = 0, o = at0 + g * GROUP / 2; j < GROUP / 2; j++, o++) {
                        out[g * GROUP + j] = Nf4Code.value(q[o] & 15) * absmax;
                        out[g * GROUP + j + GROUP / 2] = Nf4Code.value((q[o] >> 4) & 15) * absmax;
                    }
                }
            }
            default -> throw new AssertionError(format);
        }
    }

    /** Room {@link #prepare} needs. */
    public int preparedLength() {
        return stride;
    }

    /** Arranges the input {@code x} (at least {@code cols} values) as {@link #dot} reads it, into {@code into}. */
    public void prepare(float[] x, float[] into) {
        if (into.length < stride) throw new IllegalArgumentException("room for " + into.length + " values, " + stride + " needed");
        if (SIMD && format == WeightFormat.BF16) {
            float[] padded = Arrays.copyOf(x, stride);
            Arrays.fill(padded, cols, stride, 0f);
            PackedKernels.interleave(padded, stride, into);
        } else {
            System.arraycopy(x, 0, into, 0, cols);
            Arrays.fill(into, cols, stride, 0f);
        }
    }

    /**
     * Rows {@code from..to-1} times each of the inputs {@code x[0..n)} ({@link #prepare prepared}) into
     * {@code out[(row - from) * n + b]}, each bit for bit as {@link #dot} computes it alone; four inputs at a time share
     * a row's widening to fp32 and its loads (bf16: two rows share each input's loads too), which a decode batch would
     * otherwise repeat per sequence.
     */
    public void dots(int from, int to, float[][] x, int n, float[] out) {
        for (int b = 0; b < n; b++) {
            if (x[b].length < stride) throw new IllegalArgumentException("an input of " + x[b].length + " values for rows of " + stride);
        }
        boolean blocked = SIMD && n >= 4 && (format != WeightFormat.NF4 || PackedKernels.L == 16);
        for (int row = from; row < to; row++) {
            int at = (row - from) * n;
            int b = 0;
            if (blocked) {
                int s = slab(row);
                int start = start(s, row);
                int sc = scaleBase[s] + group(row);
                boolean pair = format == WeightFormat.BF16 && row + 1 < to && slab(row + 1) == s;
                for (; b + 4 <= n; b += 4) {
                    switch (format) {
                        case BF16 -> {
                            if (pair) PackedKernels.bf16x4x2(pairs[s], start, start(s, row + 1), x[b], x[b + 1], x[b + 2], x[b + 3], stride, out, at + b, at + n + b);
                            else PackedKernels.bf16x4(pairs[s], start, x[b], x[b + 1], x[b + 2], x[b + 3], stride, out, at + b);
                        }
                        case INT8 -> PackedKernels.int8x4(codes[s], start, scales[s], sc, x[b], x[b + 1], x[b + 2], x[b + 3], groups, out, at + b);
                        case NF4 -> PackedKernels.nf4x4(codes[s], start, scales[s], sc, x[b], x[b + 1], x[b + 2], x[b + 3], groups, out, at + b);
                        default -> throw new AssertionError(format);
                    }
                }
                if (pair) {
                    for (int c = b; c < n; c++) out[at + n + c] = dot(row + 1, x[c]);
                    for (; b < n; b++) out[at + b] = dot(row, x[b]);
                    row++; // the pair's second row is done
                    continue;
                }
            }
            for (; b < n; b++) out[at + b] = dot(row, x[b]);
        }
    }

    /** Row {@code row} times the input {@link #prepare prepared} in {@code x}. */
    public float dot(int row, float[] x) {
        int s = slab(row); // checks row: the SIMD loops do not check each access
        if (x.length < stride) throw new IllegalArgumentException("an input of " + x.length + " values for rows of " + stride);
        if (SIMD) {
            int at = start(s, row);
            int sc = scaleBase[s] + group(row);
            return switch (format) {
                case BF16 -> PackedKernels.bf16(pairs[s], at, x, stride);
                case INT8 -> PackedKernels.int8(codes[s], at, scales[s], sc, x, groups);
                case NF4 -> PackedKernels.nf4(codes[s], at, scales[s], sc, x, groups);
                default -> throw new AssertionError(format);
            };
        }
        float[] values = new float[stride];
        dequantizeRow(row, values);
        float sum = 0;
        for (int i = 0; i < cols; i++) sum += values[i] * x[i];
        return sum;
    }
}
