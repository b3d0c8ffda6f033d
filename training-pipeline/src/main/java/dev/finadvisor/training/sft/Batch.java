package dev.finadvisor.training.sft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;

/**
 * Examples collated for one forward pass: inputs are tokens[0..n-1], predicting tokens[1..n], padded
 * on the right to the longest example (a causal model never lets padding after a token change that
 * token's prediction), with a mask that is 1 only where an answer token is predicted, and those
 * positions listed: their flat indices into {@code rows x width} and their targets, so that a
 * training pass computes logits for them alone.
 */
public record Batch(NDArray inputs, NDArray mask, NDArray answerPositions, NDArray answerTargets,
                    long answerTokens, long tokens) {
    /** Input positions that are padding (rows x width minus the real next-token positions). */
    public long paddedPositions() {
        long rows = inputs.getShape().get(0);
        return inputs.getShape().size() - (tokens - rows);
    }

    public static Batch of(List<Example> examples, int padId, NDManager manager) {
        int width = 0;
        for (Example e : examples) width = Math.max(width, e.tokens().length - 1);
        int rows = examples.size();
        long[] inputs = new long[rows * width];
        float[] mask = new float[rows * width];
        long answer = 0;
        long tokens = 0;
        long[] positions = new long[rows * width];
        long[] answerTargets = new long[rows * width];
        for (int b = 0; b < rows; b++) {
            Example e = examples.get(b);
            int n = e.tokens().length - 1;
            tokens += e.tokens().length;
            for (int t = 0; t < width; t++) {
                int i = b * width + t;
                inputs[i] = t < n ? e.tokens()[t] : padId;
                if (t < n && e.counts(t)) {
                    mask[i] = 1f;
                    positions[(int) answer] = i;
                    answerTargets[(int) answer] = e.tokens()[t + 1];
                    answer++;
                }
            }
        }
        Shape shape = new Shape(rows, width);
        return new Batch(manager.create(inputs, shape), manager.create(mask, shape),
                manager.create(Arrays.copyOf(positions, (int) answer)), manager.create(Arrays.copyOf(answerTargets, (int) answer)),
                answer, tokens);
    }
}
