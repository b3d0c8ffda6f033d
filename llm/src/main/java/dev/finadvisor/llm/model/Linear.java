package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;

/**
 * One linear projection of a model ({@code y = x W^T + b}), addressed by its Hugging Face module
 * path, so LoRA can wrap it and NF4 can replace it without the model knowing.
 */
public interface Linear {
    /** {@code x[..., in]} to {@code [..., out]}; the result belongs to x's manager. */
    NDArray apply(NDArray x);

    int inFeatures();

    int outFeatures();

    /**
     * {@code x W^T + b} ({@code bias} may be null) as torch's linear: one kernel with x the left operand and the
     * transpose inside the engine, not an op (and autograd node) of its own.
     */
    static NDArray project(NDArray x, NDArray weight, NDArray bias) {
        return ai.djl.nn.core.Linear.linear(x, weight, bias).singletonOrThrow();
    }
}
