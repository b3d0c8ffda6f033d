package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finadvisor.llm.lowbit.PackedWeight;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.stream.IntStream;

/**
 * A frozen linear layer whose weight is a {@link PackedWeight} (bf16, int8, NF4) for generation. The Java decoder reads
 * the packed rows in place; {@link #apply} serves the engine's passes: a few input rows (the output head after a
 * prefill) are multiplied row by row from the packed weight, many (a prefill) by the engine's matrix product on fp32
 * rows dequantised a slab at a time into the model's one reused {@link Scratch}, so no fp32 copy of the model exists.
 */
public final class PackedLinear implements Linear {
    /** Up to this many input rows are multiplied in Java, reading the packed weight once per row. */
    private static final int JAVA_ROWS = 4;

    /** The fp32 buffer a model's packed layers dequantise into for the engine, one slab at a time (at most 256 MiB). */
    static final class Scratch {
        private static final long MAX_FLOATS = 64L << 20;
        private ByteBuffer buffer;

        /** Rows of {@code in} floats that fit at once. */
        int rows(int in) {
            return (int) Math.max(1, MAX_FLOATS / in);
        }

        ByteBuffer floats(long count) {
            if (buffer == null || buffer.capacity() < 4 * count) buffer = ByteBuffer.allocateDirect(Math.toIntExact(4 * count));
            return buffer.clear().limit(Math.toIntExact(4 * count)).slice().order(ByteOrder.nativeOrder());
        }
    }

    private final PackedWeight weight;
    private final NDArray bias;
    private final float[] biasValues;
    private final Scratch scratch;

    PackedLinear(PackedWeight weight, NDArray bias, Scratch scratch) {
        this.weight = weight;
        this.bias = bias;
        this.biasValues = bias == null ? null : bias.toFloatArray();
        this.scratch = scratch;
    }

    public PackedWeight weight() {
        return weight;
    }

    /** The bias as Java floats, or null. */
    float[] biasValues() {
        return biasValues;
    }

    @Override
    public int inFeatures() {
        return weight.cols();
    }

    @Override
    public int outFeatures() {
        return weight.rows();
    }

    @Override
    public NDArray apply(NDArray x) {
        int in = weight.cols();
        int out = weight.rows();
        long[] shape = x.getShape().getShape().clone();
        shape[shape.length - 1] = out;
        long m = x.size() / in;
        if (m <= JAVA_ROWS) return x.getManager().create(javaRows(x.toType(DataType.FLOAT32, false).toFloatArray(), (int) m), new Shape(shape));
        synchronized (scratch) {
            int slabRows = scratch.rows(in);
            if (slabRows >= out) return Linear.project(x, dequantized(x.getManager(), 0, out), bias);
            NDList parts = new NDList();
            try (NDManager slabs = x.getManager().newSubManager()) {
                for (int first = 0; first < out; first += slabRows) {
                    int count = Math.min(slabRows, out - first);
                    NDArray w = dequantized(slabs, first, count);
                    parts.add(Linear.project(x, w, null));
                    w.close();
                }
                NDArray y = NDArrays.concat(parts, -1);
                if (bias != null) y = y.add(bias);
                y.attach(x.getManager());
                return y;
            }
        }
    }

    /** Rows {@code [first, first + count)} as an fp32 tensor over the scratch buffer: valid until the next call. */
    private NDArray dequantized(NDManager manager, int first, int count) {
        ByteBuffer buffer = scratch.floats((long) count * weight.cols());
        int parts = Math.max(1, Math.min(count, 4 * Runtime.getRuntime().availableProcessors()));
        IntStream.range(0, parts).parallel().forEach(p -> {
            int from = first + count * p / parts;
            int to = first + count * (p + 1) / parts;
            weight.dequantize(from, to - from, buffer.asFloatBuffer().position((from - first) * weight.cols()));
        });
        return manager.create(buffer, new Shape(count, weight.cols()), DataType.FLOAT32);
    }

    /** {@code m} rows of x times the weight, in Java, each weight row read once for all of them. */
    private float[] javaRows(float[] x, int m) {
        int in = weight.cols();
        int out = weight.rows();
        float[][] prepared = new float[m][weight.preparedLength()];
        for (int i = 0; i < m; i++) weight.prepare(java.util.Arrays.copyOfRange(x, i * in, (i + 1) * in), prepared[i]);
        float[] y = new float[m * out];
        IntStream.range(0, out).parallel().forEach(r -> {
            for (int i = 0; i < m; i++) y[i * out + r] = weight.dot(r, prepared[i]) + (biasValues == null ? 0 : biasValues[r]);
        });
        return y;
    }
}
