package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;

/** A plain fp32 linear layer: {@code weight[out, in]}, optional {@code bias[out]}. */
public record DenseLinear(NDArray weight, NDArray bias) implements Linear {
    public DenseLinear {
        if (weight.getShape().dimension() != 2) throw new IllegalArgumentException("weight must be [out, in], got " + weight.getShape());
    }

    @Override
    public NDArray apply(NDArray x) {
        return Linear.project(x, weight, bias); // one addmm rather than matMul + add
    }

    @Override
    public int inFeatures() {
        return (int) weight.getShape().get(1);
    }

    @Override
    public int outFeatures() {
        return (int) weight.getShape().get(0);
    }
}
