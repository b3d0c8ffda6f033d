package dev.finadvisor.training.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finadvisor.domain.UserError;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GateTest {
    static final List<String> KNOWN = Metrics.NAMES;

    @Test
    void aScoreBelowItsBarAndALossAboveItsBarAreMissed() {
        Gate gate = Gate.parse(List.of("rouge_l=0.3", "perplexity=20"), KNOWN);
        assertThat(gate.missed(Map.of("rouge_l", 0.31, "perplexity", 19.0))).isEmpty();
        assertThat(gate.missed(Map.of("rouge_l", 0.3, "perplexity", 20.0))).as("a value at its bar meets it").isEmpty();
        assertThat(gate.missed(Map.of("rouge_l", 0.29, "perplexity", 21.5)))
                .containsExactly("rouge_l is 0.2900, below the bar 0.3", "perplexity is 21.5000, above the bar 20.0");
        assertThat(gate.missed(Map.of("rouge_l", Double.NaN, "perplexity", 1.0))).singleElement().asString().contains("rouge_l has no value");
    }

    @Test
    void anUnknownMetricOrABadNumberIsAUserErrorNamingIt() {
        assertThatThrownBy(() -> Gate.parse(List.of("bleu=0.2"), KNOWN)).isInstanceOf(UserError.class)
                .hasMessageContaining("--fail-under bleu=0.2").hasMessageContaining("rouge_l");
        assertThatThrownBy(() -> Gate.parse(List.of("rouge_l"), KNOWN)).isInstanceOf(UserError.class).hasMessageContaining("METRIC=VALUE");
        assertThatThrownBy(() -> Gate.parse(List.of("rouge_l=high"), KNOWN)).isInstanceOf(UserError.class).hasMessageContaining("'high' is not a number");
    }

    @Test
    void lossIsAMeanOverTokensNotOverSamples() {
        RougeL.Score r = new RougeL.Score(1, 1, 1);
        // sample 1: loss 2.0 over 1 token; sample 2: 3.0 summed over 3 tokens (1.0 each): (2 + 3) / 4 = 1.25, not (2 + 1) / 2
        Map<String, Double> m = Metrics.of(List.of(new SampleScore(2.0, 1, "a", "eos", r, 5, 4, 100, 40, null),
                new SampleScore(3.0, 3, "b", "eos", new RougeL.Score(0, 0, 0), 5, 6, 300, 20, null)));
        assertThat(m.get("loss")).isEqualTo(1.25);
        assertThat(m.get("perplexity")).isEqualTo(Math.exp(1.25));
        assertThat(m.get("rouge_l")).isEqualTo(0.5);
        assertThat(m.get("latency_ms")).isEqualTo(200.0);
        assertThat(m.get("tokens_per_s")).isEqualTo(10 * 1000.0 / 400);
        assertThat(m).doesNotContainKey("judge_relevance"); // no judge asked
    }

    @Test
    void judgeGradesAreMeansOverTheValidOnesAndTheMissingAreCounted() {
        RougeL.Score r = new RougeL.Score(1, 1, 1);
        List<SampleScore> scores = List.of(
                new SampleScore(1, 1, "a", "eos", r, 5, 4, 100, 40, new Judge.Grades(5, 4, 3, 2, "fine", null)),
                new SampleScore(1, 1, "b", "eos", r, 5, 4, 100, 40, new Judge.Grades(3, 2, 1, 4, "weak", null)),
                new SampleScore(1, 1, "c", "eos", r, 5, 4, 100, 40, Judge.Grades.missing("malformed reply (3 attempts)")));
        Map<String, Double> m = Metrics.of(scores);
        assertThat(m.get("judge_relevance")).isEqualTo(4.0);
        assertThat(m.get("judge_grounding")).isEqualTo(3.0);
        assertThat(m.get("judge_persona")).isEqualTo(2.0);
        assertThat(m.get("judge_safety")).isEqualTo(3.0);
        assertThat(m.get("judge_missing")).isEqualTo(1.0);
        assertThat(Gate.parse(List.of("judge_missing=0"), KNOWN).missed(m)).containsExactly("judge_missing is 1.0000, above the bar 0.0");
    }
}
