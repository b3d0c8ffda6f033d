package dev.finadvisor.llm.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

class AttentionTest {
    /** Past 8M scores a pass attends a block of queries at a time: the same output as all at once. */
    @Test
    void blocksOfQueriesGiveTheWholeAttention() {
        int heads = 4;
        int kvHeads = 2;
        int past = 700;
        int s = 1500;
        int d = 16;
        try (NDManager m = NDManager.newBaseManager()) {
            m.getEngine().setRandomSeed(5);
            NDArray q = m.randomNormal(new Shape(1, heads, s, d));
            NDArray k = m.randomNormal(new Shape(1, kvHeads, past + s, d));
            NDArray v = m.randomNormal(new Shape(1, kvHeads, past + s, d));
            NDArray mask = Attention.causalMask(m, s, past, 0);
            assertThat((long) heads * s * (past + s)).as("enough scores to need blocks").isGreaterThan(8L << 20);
            float[] whole = Attention.attend(q, k, v, mask, Long.MAX_VALUE).toFloatArray();
            float[] blocked = Attention.attend(q, k, v, mask).toFloatArray();
            assertThat(GoldenLogitsTest.maxAbsDiff(blocked, whole)).isLessThan(1e-5f);
        }
    }

    /**
     * Recorded for backward (a training pass), blocks of queries give the output and the gradients of the whole square,
     * with a causal mask and with a sliding window.
     */
    @Test
    void blockedAttentionBackPropagatesAsTheWhole() {
        for (int window : new int[] {0, 5}) {
            float[][] whole = gradients(Long.MAX_VALUE, window);
            float[][] blocked = gradients(4 * 3 * 20, window); // 4 heads x 20 keys: 3 rows of queries a block, the last 2
            for (int i = 0; i < whole.length; i++) {
                assertThat(GoldenLogitsTest.maxAbsDiff(blocked[i], whole[i])).as("window %d, tensor %d", window, i).isLessThan(1e-5f);
            }
            assertThat(whole[1]).as("keys get a gradient").isNotEqualTo(new float[whole[1].length]);
        }
    }

    /** Output, then the gradients of q, k and v of sum(out * w) for a fixed w. */
    private static float[][] gradients(long blockScores, int window) {
        int heads = 4;
        int kvHeads = 2;
        int s = 17;
        int past = 3;
        int d = 8;
        try (NDManager m = NDManager.newBaseManager()) {
            m.getEngine().setRandomSeed(11);
            NDArray q = m.randomNormal(new Shape(1, heads, s, d));
            NDArray k = m.randomNormal(new Shape(1, kvHeads, past + s, d));
            NDArray v = m.randomNormal(new Shape(1, kvHeads, past + s, d));
            NDArray w = m.randomNormal(new Shape(1, s, heads * d));
            NDArray mask = Attention.causalMask(m, s, past, window);
            for (NDArray a : new NDArray[] {q, k, v}) a.setRequiresGradient(true);
            float[] out;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray o = Attention.attend(q, k, v, mask, blockScores);
                out = o.toFloatArray();
                gc.backward(o.mul(w).sum());
            }
            return new float[][] {out, q.getGradient().toFloatArray(), k.getGradient().toFloatArray(), v.getGradient().toFloatArray()};
        }
    }
}
