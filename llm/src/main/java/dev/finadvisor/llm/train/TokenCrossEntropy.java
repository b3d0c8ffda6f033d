package dev.finadvisor.llm.train;

import ai.djl.ndarray.NDArray;
import dev.finadvisor.llm.EngineMemory;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * Cross-entropy of next-token predictions, counted only where a mask is 1 (the answer tokens):
 * prompt, padding and truncated tails never reach the loss. Returns a sum so that gradient
 * accumulation can divide by the answer-token count of the whole accumulated batch, which makes
 * several micro-batches exactly equivalent to one big batch. Perplexity is exp of the mean.
 */
public final class TokenCrossEntropy {
    private TokenCrossEntropy() {}

    /**
     * Sum over masked positions of {@code -log softmax(logits)[target]}.
     *
     * @param logits  [batch, seq, vocab], any float type, may require gradient
     * @param targets [batch, seq] int64 token ids; masked-out positions must still hold a valid id (e.g. 0)
     * @param mask    [batch, seq], same float type as logits, 1 where the token counts and 0 elsewhere
     */
    public static NDArray sum(NDArray logits, NDArray targets, NDArray mask) {
        NDArray logProbs = logits.logSoftmax(-1);
        NDArray picked = logProbs.gather(targets.expandDims(-1), -1).squeeze(-1);
        return picked.mul(mask).sum().neg();
    }

    /**
     * Sum of {@code -log softmax(logits)[target]} over rows: logits {@code [k, vocab]} of the positions that count
     * (a training pass's output at the answer positions), targets {@code [k]} int64.
     */
    public static NDArray sum(NDArray logits, NDArray targets) {
        return logits.logSoftmax(-1).gather(targets.expandDims(-1), -1).sum().neg();
    }

    /** A summed loss and {@code d (scale * sum) / d logits}, the gradient a training pass's backward starts from. */
    public record WithGradient(double sum, NDArray gradient) {}

    /**
     * {@link #sum(NDArray, NDArray)} and {@code scale * (softmax(logits) - onehot(targets))}, its gradient times
     * {@code scale}, computed without recording. Autograd would get there through log-softmax's and gather's
     * backward: a zero-filled tensor the logits' size, a scatter and a log-softmax backward pass; this is an exp
     * of the log-probabilities, one subtraction per row and a scaling in place.
     */
    public static WithGradient sumAndGradient(NDArray logits, NDArray targets, float scale) {
        NDArray logProbs;
        try (NDArray detached = logits.stopGradient()) { // a second handle on the logits' memory: let it go with them
            logProbs = detached.logSoftmax(-1);
        }
        double sum = -logProbs.gather(targets.expandDims(-1), -1).sum().toArray()[0].doubleValue(); // any float type
        NDArray gradient = logProbs.exp();
        logProbs.close();
        int vocab = (int) logits.getShape().get(1);
        ByteBuffer memory = EngineMemory.floats(gradient);
        if (memory != null) {
            FloatBuffer g = memory.asFloatBuffer();
            long[] t = targets.toLongArray();
            for (int row = 0; row < t.length; row++) {
                int at = row * vocab + (int) t[row];
                g.put(at, g.get(at) - 1f);
            }
        } else { // not fp32 on the CPU: the one-hot as a tensor
            NDArray oneHot = targets.getManager().arange(0, vocab, 1, targets.getDataType()).eq(targets.expandDims(-1)).toType(gradient.getDataType(), false);
            gradient.subi(oneHot);
            oneHot.close();
        }
        gradient.muli(scale);
        return new WithGradient(sum, gradient);
    }

    /** exp(mean token cross-entropy) from a summed loss and its token count (NaN when no token counted). */
    public static double perplexity(double lossSum, long tokens) {
        return tokens == 0 ? Double.NaN : Math.exp(lossSum / tokens);
    }
}
