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
}
