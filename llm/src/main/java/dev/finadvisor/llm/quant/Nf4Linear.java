package dev.finadvisor.llm.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.finadvisor.llm.model.Linear;
import dev.finadvisor.llm.model.ProjectionTape;
import dev.finadvisor.llm.model.WeightSlabs;

/**
 * A frozen linear layer whose weight is held in NF4 (QLoRA's base): each call dequantises the
 * weight into the caller's scope (or, in {@link LayerwiseBackward}'s training pass, into a buffer
 * shared by the same projection of every decoder layer), multiplies, and lets the fp32 copy go, so
 * the layer keeps about half a byte per weight between calls. Never trainable.
 */
public final class Nf4Linear implements Linear, ProjectionTape.Frozen, AutoCloseable {
    private final Nf4Tensor weight;
    private final NDArray bias;
    /** While set (by {@link LayerwiseBackward}'s forward): decode into this shared tensor instead of a fresh one. */
    private NDArray buffer;

    /** {@code weight} is [out, in]; {@code bias} is [out] or null. */
    public Nf4Linear(Nf4Tensor weight, NDArray bias) {
        if (weight.shape().dimension() != 2) throw new IllegalArgumentException("NF4 linear weight must be 2-D, got " + weight.shape());
        this.weight = weight;
        this.bias = bias;
    }

    @Override
    public NDArray apply(NDArray x) {
        NDArray cut = ProjectionTape.cut(this, x, this::apply); // a training pass's tape: computed unrecorded, below
        if (cut != null) return cut;
        if (!bySlabs(x)) return product(x);
        NDArray y = WeightSlabs.product(x, outFeatures(), slabRows(), (first, count) -> rows(x, first, count));
        return bias == null ? y : y.add(bias);
    }

    /**
     * Whether a product with {@code x} dequantises the weight a slab of rows at a time: the weight is larger than a
     * slab (a Falcon-7B MLP weight is 315 MiB in fp32; a slab at most {@link #SLAB_FLOATS} floats), nothing records
     * the product (autograd would keep every slab), it is fp32, and rows are whole NF4 blocks.
     */
    private boolean bySlabs(NDArray x) {
        return slabRows() < outFeatures() && buffer == null && !JniUtils.isGradMode() && x.getDataType() == DataType.FLOAT32
                && weight.rowsByBlocks();
    }

    /** The most weights dequantised at once by a slabbed product: 16M floats, 64 MiB. */
    private static final long SLAB_FLOATS = 16L << 20;
    private long slabFloats = SLAB_FLOATS;

    /** Slabs of at most {@code floats} weights (tests: many slabs on a small weight). */
    Nf4Linear slabFloats(long floats) {
        this.slabFloats = floats;
        return this;
    }

    private int slabRows() {
        return (int) Math.max(1, Math.min(outFeatures(), slabFloats / inFeatures()));
    }

    /** Rows {@code [first, first + count)} of the weight in fp32, a fresh tensor in x's manager. */
    private NDArray rows(NDArray x, int first, int count) {
        NDArray w = x.getManager().create(new Shape(count, inFeatures()), DataType.FLOAT32);
        weight.dequantizeRowsInto(first, count, w);
        return w;
    }

    private NDArray product(NDArray x) {
        NDArray w = weightFor(x);
        // the same kernel as DenseLinear (one addmm, x the left operand), so QLoRA differs from LoRA
        // only by the dequantisation
        NDArray b = bias;
        if (b != null && b.getDataType() != x.getDataType()) {
            b = b.toType(x.getDataType(), false);
            b.attach(x.getManager());
        }
        NDArray y = Linear.project(x, w, b);
        // a fresh fp32 copy is let go at once: a training pass that records this product holds it until its backward
        // has run (one under a ProjectionTape does not record it), an inference pass frees it now, not when the
        // caller's scope ends
        if (w != buffer) w.close();
        return y;
    }

    /** {@code dy W}, by slabs of the weight's rows (and of dy's columns) where {@link #bySlabs} allows. */
    @Override
    public NDArray inputGradient(NDArray dy) {
        if (!bySlabs(dy)) {
            NDArray w = weightFor(dy);
            NDArray dx = dy.matMul(w);
            if (w != buffer) w.close();
            return dx;
        }
        return WeightSlabs.inputGradient(dy, outFeatures(), slabRows(), (first, count) -> rows(dy, first, count));
    }

    /** The weight in fp32 (in x's type, for fp64 gradient checks): the shared buffer, or a fresh copy in x's manager. */
    private NDArray weightFor(NDArray x) {
        NDArray w;
        if (buffer != null) {
            weight.dequantizeInto(buffer);
            w = buffer;
        } else {
            w = weight.dequantize(x.getManager());
        }
        if (w.getDataType() != x.getDataType()) { // fp64 gradient checks
            w = w.toType(x.getDataType(), false);
            w.attach(x.getManager());
        }
        return w;
    }

    @Override
    public int inFeatures() {
        return (int) weight.shape().get(1);
    }

    @Override
    public int outFeatures() {
        return (int) weight.shape().get(0);
    }

    void useBuffer(NDArray shared) {
        this.buffer = shared;
    }

    public Nf4Tensor weight() {
        return weight;
    }

    /** Bytes held for the weight (codes and double-quantised absmax); the bias is fp32 and not counted. */
    public long weightBytes() {
        return weight.bytesHeld();
    }

    @Override
    public void close() {
        weight.close();
    }
}
