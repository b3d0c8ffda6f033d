package dev.finadvisor.llm.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class AttentionTest {
    /** Past 8M scores an inference pass attends a block of queries at a time: the same output as all at once. */
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
            float[] whole = Attention.attend(q, k, v, mask, true).toFloatArray();
            float[] blocked = Attention.attend(q, k, v, mask, false).toFloatArray();
            assertThat(GoldenLogitsTest.maxAbsDiff(blocked, whole)).isLessThan(1e-5f);
        }
    }
}
