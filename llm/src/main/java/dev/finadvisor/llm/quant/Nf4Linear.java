package dev.finadvisor.llm.quant;

import ai.djl.ndarray.NDArray;
import dev.finadvisor.llm.model.Linear;

/**
 * A frozen linear layer whose weight is held in NF4 (QLoRA's base): each call dequantises the
 * weight into the caller's scope (or, in {@link LayerwiseBackward}'s training pass, into a buffer
 * shared by the same projection of every decoder layer), multiplies, and lets the fp32 copy go, so
 * the layer keeps about half a byte per weight between calls. Never trainable.
 */
public final class Nf4Linear implements Linear, AutoCloseable {
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
        // the same kernel as DenseLinear (one addmm, x the left operand), so QLoRA differs from LoRA
        // only by the dequantisation
        NDArray b = bias;
        if (b != null && b.getDataType() != x.getDataType()) {
            b = b.toType(x.getDataType(), false);
            b.attach(x.getManager());
        }
        NDArray y = Linear.project(x, w, b);
        // a fresh fp32 copy is let go at once: a training pass's autograd holds it until its backward has run (then
        // frees it, layer by layer), an inference pass frees it now, not when the caller's scope ends
        if (w != buffer) w.close();
        return y;
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
