package dev.finadvisor.training.eval;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A model's metrics over the samples it was scored on. */
public final class Metrics {
    /** Every metric an evaluation can report, in report order; those it did not measure are absent or NaN. */
    public static final List<String> NAMES = List.of("loss", "perplexity", "rouge_l", "retrieval_hit_rate", "judge_relevance",
            "judge_grounding", "judge_persona", "judge_safety", "judge_missing", "latency_ms", "tokens_per_s");

    private Metrics() {}

    /**
     * loss: mean cross-entropy per reference-answer token over all samples (each token weighs the same, as training's
     * eval_loss); perplexity: exp(loss); rouge_l: mean ROUGE-L F1 of the generated answers; latency_ms: mean time per
     * answer; tokens_per_s: generated tokens over generation time, all answers together; with a judge, judge_CRITERION:
     * the mean grade over the answers it graded validly, and judge_missing: how many it did not.
     */
    public static Map<String, Double> of(List<SampleScore> scores) {
        double lossSum = 0;
        long tokens = 0;
        double rouge = 0;
        long latency = 0;
        long generated = 0;
        for (SampleScore s : scores) {
            lossSum += s.lossSum();
            tokens += s.answerTokens();
            rouge += s.rouge().f1();
            latency += s.latencyMs();
            generated += s.completionTokens();
        }
        Map<String, Double> m = new LinkedHashMap<>();
        double loss = tokens == 0 ? Double.NaN : lossSum / tokens;
        m.put("loss", loss);
        m.put("perplexity", Math.exp(loss));
        m.put("rouge_l", scores.isEmpty() ? Double.NaN : rouge / scores.size());
        m.put("latency_ms", scores.isEmpty() ? Double.NaN : (double) latency / scores.size());
        m.put("tokens_per_s", latency == 0 ? Double.NaN : generated * 1000.0 / latency);
        if (scores.stream().anyMatch(s -> s.judge() != null)) {
            List<Judge.Grades> valid = scores.stream().map(SampleScore::judge).filter(g -> g != null && g.valid()).toList();
            m.put("judge_relevance", mean(valid.stream().mapToInt(Judge.Grades::relevance).toArray()));
            m.put("judge_grounding", mean(valid.stream().mapToInt(Judge.Grades::grounding).toArray()));
            m.put("judge_persona", mean(valid.stream().mapToInt(Judge.Grades::persona).toArray()));
            m.put("judge_safety", mean(valid.stream().mapToInt(Judge.Grades::safety).toArray()));
            m.put("judge_missing", (double) (scores.size() - valid.size()));
        }
        return m;
    }

    private static double mean(int[] values) {
        return values.length == 0 ? Double.NaN : java.util.Arrays.stream(values).average().orElseThrow();
    }

    /** {@code adapter - base} for {@code metric}, NaN when either lacks it. */
    public static double difference(Map<String, Double> base, Map<String, Double> adapter, String metric) {
        Double b = base == null ? null : base.get(metric);
        Double a = adapter == null ? null : adapter.get(metric);
        return a == null || b == null ? Double.NaN : a - b;
    }

    /** Metrics where a lower value is better: a bar is an upper bound for them. */
    public static boolean lowerIsBetter(String metric) {
        return List.of("loss", "eval_loss", "perplexity", "latency_ms", "judge_missing").contains(metric);
    }
}
