package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;

/** How a training step runs the model: forward to logits, then backward from the loss. */
public interface TrainingPass {
    /** Logits {@code [batch, seq, vocab]} for token ids {@code [batch, seq]}, recorded for {@link #backward}. */
    NDArray forward(NDArray inputIds);

    /**
     * Logits {@code [k, vocab]} at {@code rows} (int64 {@code [k]} flat indices into the {@code batch x seq}
     * positions), recorded for {@link #backward}: see {@link CausalLM#forward(NDArray, CausalLM.LayerEntry, NDArray)}.
     * This default computes every position's logits and picks the rows.
     */
    default NDArray forward(NDArray inputIds, NDArray rows) {
        NDArray logits = forward(inputIds);
        return logits.reshape(-1, logits.getShape().get(logits.getShape().dimension() - 1)).get(rows);
    }

    /**
     * Backward from the last {@link #forward}'s {@code logits}, given {@code d loss / d logits}, into the trainable
     * weights (for a scalar loss computed from the logits: the loss and a gradient of one). A pass may close both
     * once it no longer needs them, to free their memory before the rest of the backward.
     */
    void backward(NDArray logits, NDArray gradient);

    /**
     * The engine's backward from {@code output} seeded with {@code gradient} (DJL's {@code GradientCollector}
     * seeds with ones only); {@code output} must have been computed while a gradient collector was open.
     */
    static void backpropagate(NDArray output, NDArray gradient) {
        if (!(output instanceof PtNDArray o) || !(gradient instanceof PtNDArray g)) {
            throw new IllegalStateException("training needs the PyTorch engine, got " + output.getClass().getSimpleName());
        }
        JniUtils.backward(o, g, false, false);
    }

    /** The plain pass for {@code model}: its forward (the output head only at the rows asked for), then one backward through the whole graph. */
    static TrainingPass whole(CausalLM model) {
        return whole(model::forward, (inputIds, rows) -> model.forward(inputIds, (layer, hidden) -> hidden, rows));
    }

    /** The plain pass over any forward function: {@code forward}, then one backward through the whole graph. */
    static TrainingPass whole(UnaryOperator<NDArray> forward) {
        return whole(forward, null);
    }

    /** {@code atRows} null: every position's logits, then the rows picked. */
    private static TrainingPass whole(UnaryOperator<NDArray> forward, BinaryOperator<NDArray> atRows) {
        return new TrainingPass() {
            @Override
            public NDArray forward(NDArray inputIds) {
                return forward.apply(inputIds);
            }

            @Override
            public NDArray forward(NDArray inputIds, NDArray rows) {
                return atRows == null ? TrainingPass.super.forward(inputIds, rows) : atRows.apply(inputIds, rows);
            }

            @Override
            public void backward(NDArray logits, NDArray gradient) {
                backpropagate(logits, gradient);
            }
        };
    }
}
