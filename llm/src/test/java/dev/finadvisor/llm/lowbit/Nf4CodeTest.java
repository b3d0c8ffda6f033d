package dev.finadvisor.llm.lowbit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class Nf4CodeTest {
    /** The bin table gives what the search over the midpoints gives, at the hard places too: midpoints, bin edges, outside [-1, 1]. */
    @Test
    void theBinTableAgreesWithTheSearchEverywhere() {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        for (int t = 0; t < 200_000; t++) {
            float x = (float) (random.nextDouble() * 2.2 - 1.1);
            assertThat(Nf4Code.nearest(x)).as("x=%s seed=%s", x, seed).isEqualTo(Nf4Code.count(x));
        }
        for (float m : Nf4Code.MIDPOINTS) {
            for (float x : new float[] {m, Math.nextDown(m), Math.nextUp(m)}) assertThat(Nf4Code.nearest(x)).as("x=%s", x).isEqualTo(Nf4Code.count(x));
        }
        for (int b = 0; b <= 1024; b++) {
            float edge = -1f + 2f * b / 1024;
            for (float x : new float[] {edge, Math.nextDown(edge), Math.nextUp(edge)}) {
                assertThat(Nf4Code.nearest(x)).as("x=%s", x).isEqualTo(Nf4Code.count(x));
            }
        }
        assertThat(Nf4Code.nearest(-7f)).isZero();
        assertThat(Nf4Code.nearest(7f)).isEqualTo(15);
        assertThat(Nf4Code.nearest(0f)).isEqualTo(7);
    }
}
