package dev.finadvisor.llm.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;

/**
 * A tensor held in NF4: two 4-bit codes per byte (the first value of each pair in the high
 * nibble), an 8-bit code per block absmax, and one fp32 scale per 256 absmax values plus their
 * mean. Dequantisation is one embedding lookup of the packed bytes in a 256 x 2 table of code
 * pairs, then a multiply by the block absmax: exactly the values {@code code * absmax} in fp32.
 */
public final class Nf4Tensor implements AutoCloseable {
    private final NDManager manager;
    private final Shape shape;
    private final NDArray pairTable;
    private final NDArray packed;
    private final NDArray absmaxCodes;
    private final NDArray absmaxScales;
    private final NDArray absmaxOffset;

    Nf4Tensor(NDManager manager, Shape shape, NDArray pairTable, NDArray packed, NDArray absmaxCodes,
              NDArray absmaxScales, NDArray absmaxOffset) {
        this.manager = manager;
        this.shape = shape;
        this.pairTable = pairTable;
        this.packed = packed;
        this.absmaxCodes = absmaxCodes;
        this.absmaxScales = absmaxScales;
        this.absmaxOffset = absmaxOffset;
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
     * The fp32 tensor this stands for, attached to {@code target} (the caller's step or scope),
     * with every intermediate freed at once.
     */
    public NDArray dequantize(NDManager target) {
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
