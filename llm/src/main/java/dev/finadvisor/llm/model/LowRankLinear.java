package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;

/**
 * A projection with a low-rank update, {@code y = base(x) + scale * (x A^T) B^T} (LoRA), exposed so
 * Java decoding can run it without engine ops; generation is inference, so no dropout applies.
 */
public interface LowRankLinear extends Linear {
    Linear base();

    /** {@code [r, in]}. */
    NDArray a();

    /** {@code [out, r]}. */
    NDArray b();

    double scale();
}
