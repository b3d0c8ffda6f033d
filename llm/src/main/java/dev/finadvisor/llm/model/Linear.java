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
}
