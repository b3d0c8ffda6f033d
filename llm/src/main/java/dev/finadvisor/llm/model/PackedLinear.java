package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.finadvisor.llm.EngineMemory;
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
public final class PackedLinear implements Linear, ProjectionTape.Frozen {
    /** Up to this many input rows are multiplied in Java, reading the packed weight once per row. */
    private static final int JAVA_ROWS = 4;
    /** Floats of fp32 weight a product dequantises at most at once (see {@link Scratch}). */
    public static final long SCRATCH_FLOATS = 32L << 20;

    /**
     * The fp32 engine tensor a model's packed layers dequantise into for the engine's products, a slab at a time (at most
     * 128 MiB: a Falcon-7B attention projection in one slab, its MLP's in three): written in place through its memory and viewed at
     * each slab's shape, so a product allocates no weight.
     */
    static final class Scratch {
        private final NDManager manager;
        private final long maxFloats;
        private NDArray flat;
        private ByteBuffer memory;

        Scratch(NDManager manager) {
            this(manager, SCRATCH_FLOATS);
        }

        /** At most {@code maxFloats} floats (tests: many slabs on a small weight). */
        Scratch(NDManager manager, long maxFloats) {
            this.manager = manager;
            this.maxFloats = maxFloats;
        }

        /** Rows of {@code in} floats that fit at once. */
        int rows(int in) {
            return (int) Math.max(1, maxFloats / in);
        }

        /** The first {@code count} floats of the tensor, to write. */
        ByteBuffer floats(long count) {
            if (flat == null || flat.size() < count) {
                if (flat != null) flat.close();
                flat = manager.zeros(new Shape(count));
                NDScope.unregister(flat); // it outlives the caller's scope (a training run's evaluation opens one per batch)
                memory = EngineMemory.floats(flat);
            }
            return memory.duplicate().clear().limit(Math.toIntExact(4 * count)).slice().order(ByteOrder.nativeOrder());
        }

        /** Frees the tensor (a training step's head is done with it until the next step); the next use makes it again. */
        void release() {
            if (flat != null) flat.close();
            flat = null;
            memory = null;
        }

        /** The first {@code rows * cols} floats as a {@code [rows, cols]} view; close it after use. */
        NDArray view(int rows, int cols) {
            try (NDArray prefix = flat.get(new NDIndex("0:" + (long) rows * cols))) {
                return prefix.reshape(rows, cols);
            }
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
        NDArray cut = ProjectionTape.cut(this, x, this::apply); // a training pass's tape: computed unrecorded, as below
        if (cut != null) return cut;
        int in = weight.cols();
        int out = weight.rows();
        long[] shape = x.getShape().getShape().clone();
        shape[shape.length - 1] = out;
        long m = x.size() / in;
        if (JniUtils.isGradMode()) return recorded(x); // a training pass (QLoRA's frozen bf16 head)
        if (m <= JAVA_ROWS) return x.getManager().create(javaRows(x.toType(DataType.FLOAT32, false).toFloatArray(), (int) m), new Shape(shape));
        synchronized (scratch) {
            int slabRows = scratch.rows(in);
            if (slabRows >= out) {
                try (NDArray w = dequantized(0, out)) {
                    return Linear.project(x, w, bias);
                }
            }
            NDArray y = WeightSlabs.product(x, out, slabRows, this::dequantized);
            return bias == null ? y : y.add(bias);
        }
    }

    /**
     * The product in a pass autograd records: on fp32 copies of the weight a slab at a time, each let go after its
     * product (autograd keeps it until its backward has run), never the shared scratch that the next call overwrites.
     */
    private NDArray recorded(NDArray x) {
        int in = weight.cols();
        NDArray y = WeightSlabs.product(x, weight.rows(), scratch.rows(in), (first, count) -> {
            NDArray w = x.getManager().create(new Shape(count, in));
            weight.dequantize(first, count, EngineMemory.floats(w).asFloatBuffer());
            return w;
        });
        return bias == null ? y : y.add(bias);
    }

    /**
     * {@code dy W}, a slab of the weight's rows (and of dy's columns) at a time, dequantised into the scratch tensor,
     * which is then freed: in a training step this runs once, for the head, before the decoder layers' backward.
     */
    @Override
    public NDArray inputGradient(NDArray dy) {
        synchronized (scratch) {
            NDArray dx = WeightSlabs.inputGradient(dy, weight.rows(), scratch.rows(weight.cols()), this::dequantized);
            scratch.release(); // a training step's backward goes on to the decoder layers, which can use this memory
            return dx;
        }
    }

    /** Rows {@code [first, first + count)} in fp32 as a view of the scratch tensor, valid until the next call: close it. */
    private NDArray dequantized(int first, int count) {
        ByteBuffer buffer = scratch.floats((long) count * weight.cols());
        int parts = Math.max(1, Math.min(count, 4 * Runtime.getRuntime().availableProcessors()));
        IntStream.range(0, parts).parallel().forEach(p -> {
            int from = first + count * p / parts;
            int to = first + count * (p + 1) / parts;
            weight.dequantize(from, to - from, buffer.asFloatBuffer().position((from - first) * weight.cols()));
        });
        return scratch.view(count, weight.cols());
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
