package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;
import java.util.function.UnaryOperator;

/** How a training step runs the model: forward to logits, then backward from the loss. */
public interface TrainingPass {
    /** Logits {@code [batch, seq, vocab]} for token ids {@code [batch, seq]}, recorded for {@link #backward}. */
    NDArray forward(NDArray inputIds);

    /** Backward from {@code loss} (a scalar computed from the last {@link #forward}'s logits) into the trainable weights. */
    void backward(GradientCollector collector, NDArray loss);

    /** The plain pass: {@code forward}, then one backward through the whole graph. */
    static TrainingPass whole(UnaryOperator<NDArray> forward) {
        return new TrainingPass() {
            @Override
            public NDArray forward(NDArray inputIds) {
                return forward.apply(inputIds);
            }

            @Override
            public void backward(GradientCollector collector, NDArray loss) {
                collector.backward(loss);
            }
        };
    }
}
