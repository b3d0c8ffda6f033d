package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** Scaled dot-product attention composed of engine ops (DJL has no fused kernel). */
final class Attention {
    private Attention() {}

    /** Scores held at once by a block of queries: 8M floats, 32 MiB. */
    private static final long BLOCK_SCORES = 8L << 20;

    /**
     * q {@code [b, heads, s, d]}, k and v {@code [b, kvHeads, T, d]} (T = past + s); kv heads serve
     * {@code heads / kvHeads} consecutive query heads; q already scaled by 1/sqrt(d) ({@link Rotary.Tables#scaled}).
     * Returns {@code [b, s, heads * d]}. A long prompt attends a block of queries at a time: a 941-token prompt of
     * Falcon-7B's 71 heads would need 251 MB of scores per copy at once. Recorded for backward, autograd keeps each
     * block's probabilities (the full square in all) but a block's scores and gradients exist one block at a time
     * (at 1,024 tokens, 33 MB where the full square made 2 x 298 MB more in backward). Every block but the last has the
     * same shape, against every key, so the allocator reuses one block's memory for the next.
     */
    static NDArray attend(NDArray q, NDArray k, NDArray v, NDArray mask) {
        return attend(q, k, v, mask, BLOCK_SCORES);
    }

    /** {@link #attend(NDArray, NDArray, NDArray, NDArray)} with at most {@code blockScores} scores a block. */
    static NDArray attend(NDArray q, NDArray k, NDArray v, NDArray mask, long blockScores) {
        long b = q.getShape().get(0);
        long heads = q.getShape().get(1);
        long s = q.getShape().get(2);
        long d = q.getShape().get(3);
        long kvHeads = k.getShape().get(1);
        if (kvHeads != heads) {
            long rep = heads / kvHeads;
            k = k.repeat(1, rep); // repeat_interleave: kv head j serves query heads j*rep .. j*rep+rep-1
            v = v.repeat(1, rep);
        }
        NDArray keysT = k.transpose(0, 1, 3, 2);
        long rows = Math.max(1, blockScores / (b * heads * k.getShape().get(2)));
        NDArray out;
        if (rows >= s) {
            out = weighted(q, keysT, v, mask);
        } else {
            NDManager outer = q.getManager();
            NDList blocks = new NDList();
            for (long from = 0; from < s; from += rows) {
                long to = Math.min(s, from + rows);
                try (NDManager block = outer.newSubManager()) {
                    NDArray qb = q.get(":, :, " + from + ":" + to + ", :");
                    NDArray mb = mask.get(from + ":" + to + ", :");
                    qb.attach(block);
                    mb.attach(block);
                    NDArray ob = weighted(qb, keysT, v, mb);
                    ob.attach(outer);
                    blocks.add(ob);
                }
            }
            out = NDArrays.concat(blocks, 2);
            blocks.close();
        }
        return out.transpose(0, 2, 1, 3).reshape(b, s, heads * d);
    }

    /**
     * softmax(q k^T + mask) v, the result in q's manager. Each [heads, s, T] intermediate is closed as soon as the next
     * is made: in a training pass autograd keeps the one its backward needs (the probabilities) and the rest is freed
     * at once, not when the layer's scope ends (at 1,024 tokens of Falcon-7B's 71 heads, 298 MB each).
     */
    private static NDArray weighted(NDArray q, NDArray keysT, NDArray v, NDArray mask) {
        NDArray scores = q.matMul(keysT);
        if (mask != null) scores = replace(scores, scores.add(mask));
        NDArray probs = replace(scores, scores.softmax(-1));
        return replace(probs, probs.matMul(v));
    }

    /** {@code next}, {@code previous} closed (its memory stays while autograd holds it for backward). */
    static NDArray replace(NDArray previous, NDArray next) {
        previous.close();
        return next;
    }

    /**
     * Additive causal mask {@code [s, past + s]}: -inf where a query would see a later position, or (window > 0) a
     * position more than window - 1 before its own.
     */
    static NDArray causalMask(NDManager manager, int s, int past, int window) {
        int total = past + s;
        float[] m = new float[s * total];
        for (int i = 0; i < s; i++) {
            for (int j = 0; j < total; j++) {
                boolean later = j > past + i;
                boolean outside = window > 0 && j <= past + i - window;
                if (later || outside) m[i * total + j] = Float.NEGATIVE_INFINITY;
            }
        }
        return manager.create(m, new Shape(s, total));
    }
}
