package dev.finadvisor.llm.train;

import ai.djl.ndarray.NDArray;

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

    /** exp(mean token cross-entropy) from a summed loss and its token count (NaN when no token counted). */
    public static double perplexity(double lossSum, long tokens) {
        return tokens == 0 ? Double.NaN : Math.exp(lossSum / tokens);
    }
}
