package dev.finadvisor.llm.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * A tensor held in NF4: two 4-bit codes per byte (the first value of each pair in the high
 * nibble), an 8-bit code per block absmax, and one fp32 scale per 256 absmax values plus their
 * mean. Dequantisation looks each packed byte up in a 256 x 2 table of code pairs and multiplies
 * by the block absmax: exactly the values {@code code * absmax} in fp32.
 */
public final class Nf4Tensor implements AutoCloseable {
    private final NDManager manager;
    private final Shape shape;
    private final NDArray pairTable;
    private final NDArray packed;
    private final NDArray absmaxCodes;
    private final NDArray absmaxScales;
    private final NDArray absmaxOffset;
    /** Java copies of the per-256-block scales and the mean (4 bytes per 16,384 values): read per block. */
    private final float[] scales;
    private final float offset;

    Nf4Tensor(NDManager manager, Shape shape, NDArray pairTable, NDArray packed, NDArray absmaxCodes,
              NDArray absmaxScales, NDArray absmaxOffset) {
        this.manager = manager;
        this.shape = shape;
        this.pairTable = pairTable;
        this.packed = packed;
        this.absmaxCodes = absmaxCodes;
        this.absmaxScales = absmaxScales;
        this.absmaxOffset = absmaxOffset;
        this.scales = absmaxScales.toFloatArray();
        this.offset = absmaxOffset.getFloat(0);
    }

    public Shape shape() {
        return shape;
    }

    /** Bytes this tensor holds (codes, absmax codes, scales, offset); the shared 2 KiB pair table is not counted. */
    public long bytesHeld() {
        return packed.size() + absmaxCodes.size() + 4L * absmaxScales.size() + 4L;
    }

    /** Bytes held per represented value. */
    public double bytesPerParameter() {
        return (double) bytesHeld() / shape.size();
    }

    /** The packed codes (two per byte, high nibble first), for tests and inspection. */
    public byte[] packedCodes() {
        return packed.toByteArray();
    }

    /** The dequantised absmax of every block of {@value Nf4#BLOCK} values. */
    public float[] blockAbsmax() {
        try (NDManager scope = manager.newSubManager(); NDArray a = absmax()) {
            a.attach(scope);
            return a.toFloatArray();
        }
    }

    /**
     * The fp32 tensor this stands for, attached to {@code target} (the caller's step or scope).
     * Decoded in Java straight into the engine's own freshly allocated tensor (no copy, one
     * allocation): per block of {@value Nf4#BLOCK} values the 8-bit absmax code is decoded once,
     * then each packed byte becomes two floats through the 256-entry code-pair table. The
     * arithmetic is the engine-op lookup's ({@code code * scale + offset}, then {@code pair * absmax},
     * each rounded to fp32), so the result is bit-identical to {@link #dequantizeWithEngineOps}.
     * Measured (bench/README.md, train-lora): 0.3-0.7 ms for 768 x 768 against 9-60 ms for the
     * engine-op lookup, which also allocated about 2.5 times the result in intermediates.
     */
    public NDArray dequantize(NDManager target) {
        NDArray result = target.create(shape, DataType.FLOAT32);
        try {
            dequantizeInto(result);
        } catch (RuntimeException e) {
            result.close();
            throw e;
        }
        return result;
    }

    /**
     * Overwrites {@code target} (fp32, this tensor's shape, contiguous, on the CPU) with the values
     * this stands for, in place through a direct view of its memory: the engine does not see the
     * write (no autograd version bump), which {@link LayerwiseBackward} relies on.
     */
    public void dequantizeInto(NDArray target) {
        if (!target.getShape().equals(shape) || target.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException("NF4: cannot dequantise " + shape + " into a " + target.getDataType() + " " + target.getShape() + " tensor");
        }
        long n = shape.size();
        ByteBuffer codes = packedView();
        ByteBuffer absmaxView = absmaxCodesView();
        ByteBuffer view = target.toByteBuffer(true);
        if (!view.isDirect() || view.capacity() != 4 * n) {
            // a copy (non-contiguous or off-CPU tensor) would silently drop the values
            throw new IllegalArgumentException("NF4: the engine gave no direct view of the " + shape + " target tensor");
        }
        FloatBuffer out = view.order(ByteOrder.nativeOrder()).asFloatBuffer();
        int fullBlocks = (int) (n / Nf4.BLOCK);
        decodeBlocks(codes, absmaxView, 0, fullBlocks, out);
        // the padded last block: only its first n % BLOCK values belong to the tensor
        for (long i = (long) fullBlocks * Nf4.BLOCK; i < n; i++) {
            int v = codes.get((int) (i / 2)) & 0xFF;
            int code = (i & 1) == 0 ? v >>> 4 : v & 15;
            out.put((int) i, Nf4.CODE[code] * blockAbsmax(absmaxView, fullBlocks));
        }
    }

    /**
     * Rows {@code [first, first + count)} of this 2-D tensor into {@code target} (fp32 {@code [count, columns]}, contiguous,
     * on the CPU), in place as {@link #dequantizeInto}; the rows must start and end on a block ({@link #rowsByBlocks}).
     */
    public void dequantizeRowsInto(int first, int count, NDArray target) {
        long cols = shape.get(1);
        if (!rowsByBlocks() || !target.getShape().equals(new Shape(count, cols)) || target.getDataType() != DataType.FLOAT32
                || first < 0 || first + count > shape.get(0)) {
            throw new IllegalArgumentException("NF4: cannot dequantise rows " + first + "+" + count + " of " + shape + " into a "
                    + target.getDataType() + " " + target.getShape() + " tensor");
        }
        ByteBuffer view = target.toByteBuffer(true);
        if (!view.isDirect() || view.capacity() != 4L * count * cols) {
            throw new IllegalArgumentException("NF4: the engine gave no direct view of the " + target.getShape() + " target tensor");
        }
        int perRow = (int) (cols / Nf4.BLOCK);
        FloatBuffer out = view.order(ByteOrder.nativeOrder()).asFloatBuffer();
        decodeBlocks(packedView(), absmaxCodesView(), first * perRow, (first + count) * perRow, out);
    }

    /** Whether rows are whole blocks (the row length a multiple of {@value Nf4#BLOCK}), so a range of rows can be decoded alone. */
    public boolean rowsByBlocks() {
        return shape.dimension() == 2 && shape.get(1) % Nf4.BLOCK == 0;
    }

    /** Blocks {@code [from, to)} decoded into {@code out}, block {@code from} at its position 0. */
    private void decodeBlocks(ByteBuffer codes, ByteBuffer absmaxView, int from, int to, FloatBuffer out) {
        float[] pairs = Nf4.PAIRS;
        float[] chunk = new float[CHUNK_BLOCKS * Nf4.BLOCK];
        for (int b0 = from; b0 < to; b0 += CHUNK_BLOCKS) {
            int b1 = Math.min(to, b0 + CHUNK_BLOCKS);
            for (int b = b0; b < b1; b++) {
                float a = blockAbsmax(absmaxView, b);
                int at = (b - b0) * Nf4.BLOCK;
                int packedFrom = b * (Nf4.BLOCK / 2);
                for (int j = 0; j < Nf4.BLOCK / 2; j++) {
                    int v = (codes.get(packedFrom + j) & 0xFF) << 1;
                    chunk[at + 2 * j] = pairs[v] * a;
                    chunk[at + 2 * j + 1] = pairs[v + 1] * a;
                }
            }
            out.put((b0 - from) * Nf4.BLOCK, chunk, 0, (b1 - b0) * Nf4.BLOCK);
        }
    }

    /** Blocks decoded per bulk copy into the engine's tensor: 16 KiB of floats, cache-resident. */
    private static final int CHUNK_BLOCKS = 64;

    /** The absmax of block {@code b}: {@code code * scale + offset} in fp32, as {@link Nf4#dequantAbsmax}. */
    private float blockAbsmax(ByteBuffer absmaxView, int b) {
        return Nf4.dequantAbsmax(absmaxView.get(b), scales[b / Nf4.ABSMAX_BLOCK], offset);
    }

    /** A direct view of the packed codes in the engine's memory (no copy; valid while this tensor is open). */
    private ByteBuffer packedView() {
        return packed.toByteBuffer(true);
    }

    private ByteBuffer absmaxCodesView() {
        return absmaxCodes.toByteBuffer(true);
    }

    /**
     * The same tensor dequantised with engine ops only (one embedding lookup of the packed bytes in
     * the code-pair table, times the block absmax): the former path, kept as the independent
     * reference that tests compare {@link #dequantize} against bit for bit and that
     * bench/train-lora/Nf4Dequant.java times.
     */
    public NDArray dequantizeWithEngineOps(NDManager target) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray indices = packed.toType(DataType.INT32, false);
            indices.attach(scope);
            NDArray pairs = pairTable.getNDArrayInternal()
                    .embedding(indices, pairTable, SparseFormat.DENSE).singletonOrThrow();
            pairs.attach(scope);
            NDArray absmax = absmax();
            absmax.attach(scope);
            long blocks = pairs.size() / Nf4.BLOCK;
            NDArray values = pairs.reshape(blocks, Nf4.BLOCK).mul(absmax.reshape(blocks, 1));
            values.attach(scope);
            NDArray flat = values.reshape(-1);
            NDArray result = flat.size() == shape.size()
                    ? flat.reshape(shape)
                    : flat.get(new NDIndex("0:{}", shape.size())).reshape(shape);
            result.attach(target);
            return result;
        }
    }

    /** Dequantised block absmax values (fp32, one per block), in this tensor's manager. */
    private NDArray absmax() {
        long blocks = packed.size() * 2 / Nf4.BLOCK;
        try (NDManager scope = manager.newSubManager()) {
            NDArray codes = absmaxCodes.toType(DataType.FLOAT32, false);
            codes.attach(scope);
            NDArray scaled = codes.mul(absmaxScales);
            scaled.attach(scope);
            NDArray all = scaled.add(absmaxOffset).reshape(-1);
            all.attach(scope);
            NDArray result = all.get(new NDIndex("0:{}", blocks));
            result.attach(manager);
            return result;
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
