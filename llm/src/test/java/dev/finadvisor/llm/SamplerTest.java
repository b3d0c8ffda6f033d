package dev.finadvisor.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finadvisor.domain.UserError;
import java.util.List;
import org.junit.jupiter.api.Test;

class SamplerTest {
    private static final float[] LOGITS = {1f, 3f, 2f, 0.5f};

    private static int[] histogram(GenerationConfig c, int n) {
        Sampler s = new Sampler(c);
        int[] counts = new int[LOGITS.length];
        for (int i = 0; i < n; i++) counts[s.next(LOGITS.clone(), new boolean[LOGITS.length])]++;
        return counts;
    }

    private static GenerationConfig sampling(double temperature, int topK, double topP, long seed) {
        return new GenerationConfig(10, temperature, topK, topP, 1, seed, List.of());
    }

    @Test
    void temperatureZeroIsArgmax() {
        assertThat(histogram(GenerationConfig.greedy(1), 50)).containsExactly(0, 50, 0, 0);
    }

    @Test
    void samplingFollowsTheSoftmaxOfScaledLogits() {
        int n = 40_000;
        int[] counts = histogram(sampling(1, 0, 1, 7), n);
        double z = 0;
        for (float l : LOGITS) z += Math.exp(l);
        for (int i = 0; i < LOGITS.length; i++) {
            double p = Math.exp(LOGITS[i]) / z;
            assertThat((double) counts[i] / n).as("token %d", i).isCloseTo(p, org.assertj.core.data.Offset.offset(0.015));
        }
    }

    @Test
    void topKAndTopPCutTheTail() {
        int[] k2 = histogram(sampling(1, 2, 1, 1), 2000);
        assertThat(k2[0]).isZero();
        assertThat(k2[3]).isZero();
        // softmax(1,3,2,0.5): p(1)=0.63; top_p 0.6 keeps only the best token
        assertThat(histogram(sampling(1, 0, 0.6, 1), 500)).containsExactly(0, 500, 0, 0);
        // top_p 0.9 keeps tokens 1 and 2 (0.63 + 0.23 = 0.86 < 0.9, so token 0 joins too), never token 3
        assertThat(histogram(sampling(1, 0, 0.9, 1), 2000)[3]).isZero();
    }

    @Test
    void aSeedReproducesItsSamples() {
        assertThat(histogram(sampling(1.5, 0, 1, 42), 300)).containsExactly(histogram(sampling(1.5, 0, 1, 42), 300));
    }

    @Test
    void repetitionPenaltyDemotesSeenTokens() {
        boolean[] seen = {false, true, false, false};
        Sampler s = new Sampler(new GenerationConfig(1, 0, 0, 1, 2.0, 0, List.of()));
        assertThat(s.next(LOGITS.clone(), seen)).isEqualTo(2); // 3/2 = 1.5 < 2
        float[] negative = {-1f, -0.9f};
        Sampler s2 = new Sampler(new GenerationConfig(1, 0, 0, 1, 2.0, 0, List.of()));
        assertThat(s2.next(negative, new boolean[] {false, true})).isZero(); // -0.9 * 2 = -1.8 < -1
    }

    @Test
    void badSettingsAreClearErrors() {
        assertThatThrownBy(() -> new GenerationConfig(-1, 0, 0, 1, 1, 0, List.of())).isInstanceOf(UserError.class).hasMessageContaining("max_new_tokens");
        assertThatThrownBy(() -> new GenerationConfig(1, -0.5, 0, 1, 1, 0, List.of())).hasMessageContaining("temperature");
        assertThatThrownBy(() -> new GenerationConfig(1, 1, 0, 0, 1, 0, List.of())).hasMessageContaining("top_p");
        assertThatThrownBy(() -> new GenerationConfig(1, 1, -3, 1, 1, 0, List.of())).hasMessageContaining("top_k");
        assertThatThrownBy(() -> new GenerationConfig(1, 1, 0, 1, 0, 0, List.of())).hasMessageContaining("repetition_penalty");
    }

    /**
     * Over a vocabulary's worth of logits, every setting picks exactly the tokens of the plain algorithm it replaces
     * (sort every scaled logit for top-k, sort every index by probability for top-p), draw for draw.
     */
    @Test
    void topKAndTopPPickWhatSortingTheWholeVocabularyPicks() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        float[] logits = new float[32000];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) (r.nextGaussian() * 3 + (i % 97 == 0 ? 6 : 0));
        logits[17] = logits[18]; // a tie
        for (GenerationConfig c : List.of(sampling(0.7, 50, 0.95, 3), sampling(1.0, 0, 0.9, 4), sampling(1.3, 400, 1, 5),
                sampling(0.5, 1, 0.5, 6), sampling(0.8, 31999, 0.99, 7))) {
            Sampler fast = new Sampler(c);
            java.util.SplittableRandom reference = new java.util.SplittableRandom(c.seed());
            for (int draw = 0; draw < 30; draw++) {
                assertThat(fast.next(logits.clone(), new boolean[logits.length])).as("%s draw %d", c, draw)
                        .isEqualTo(referenceNext(c, logits, reference));
            }
        }
        double[] x = {5, 1, 4, 4, 2, 9, 0};
        assertThat(Sampler.kthLargest(x.clone(), 1)).isEqualTo(9);
        assertThat(Sampler.kthLargest(x.clone(), 2)).isEqualTo(5);
        assertThat(Sampler.kthLargest(x.clone(), 3)).isEqualTo(4);
        assertThat(Sampler.kthLargest(x.clone(), 4)).isEqualTo(4);
        assertThat(Sampler.kthLargest(x.clone(), 7)).isEqualTo(0);
    }

    /** The sampler as first written: sort the whole vocabulary for top-k and for top-p (no repetition penalty). */
    private static int referenceNext(GenerationConfig c, float[] logits, java.util.SplittableRandom random) {
        double[] scaled = new double[logits.length];
        for (int i = 0; i < logits.length; i++) scaled[i] = logits[i] / c.temperature();
        if (c.topK() > 0 && c.topK() < scaled.length) {
            double[] sorted = scaled.clone();
            java.util.Arrays.sort(sorted);
            double kth = sorted[sorted.length - c.topK()];
            for (int i = 0; i < scaled.length; i++) if (scaled[i] < kth) scaled[i] = Double.NEGATIVE_INFINITY;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (double v : scaled) max = Math.max(max, v);
        double[] probs = new double[scaled.length];
        double sum = 0;
        for (int i = 0; i < scaled.length; i++) sum += probs[i] = Math.exp(scaled[i] - max);
        for (int i = 0; i < probs.length; i++) probs[i] /= sum;
        if (c.topP() < 1) {
            Integer[] order = new Integer[probs.length];
            for (int i = 0; i < order.length; i++) order[i] = i;
            java.util.Arrays.sort(order, (a, b) -> Double.compare(probs[b], probs[a]));
            double mass = 0;
            int keep = 0;
            while (keep < order.length && (keep == 0 || mass < c.topP())) mass += probs[order[keep++]];
            for (int i = keep; i < order.length; i++) probs[order[i]] = 0;
            double total = 0;
            for (double p : probs) total += p;
            for (int i = 0; i < probs.length; i++) probs[i] /= total;
        }
        double u = random.nextDouble();
        double cumulative = 0;
        int last = -1;
        for (int i = 0; i < probs.length; i++) {
            if (probs[i] == 0) continue;
            cumulative += probs[i];
            last = i;
            if (u < cumulative) return i;
        }
        return last;
    }
}
