package dev.finadvisor.training.eval;

import dev.finadvisor.domain.prompt.PromptTemplate;
import dev.finadvisor.domain.qa.QaSample;
import dev.finadvisor.domain.util.Progress;
import dev.finadvisor.llm.LanguageModel;
import dev.finadvisor.llm.lora.LoraLayers;
import dev.finadvisor.llm.lora.PeftAdapter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Evaluates a model on Q&A samples: the base alone ({@link #BASE}), base + adapter ({@link #ADAPTER}), or both in turn on
 * the same samples ({@code compare}: the base first, then the adapter applied to the same loaded weights, unmerged). A
 * {@code cancelled} that turns true ends it after the sample under way; what was scored is kept and marked partial.
 */
public final class Evaluation {
    public static final String BASE = "base";
    public static final String ADAPTER = "adapter";

    /**
     * Scores per model label ({@link #BASE}, {@link #ADAPTER}), each in sample order; {@code partial}: cancelled before the
     * end; {@code retrieval}: each sample's retrieval hit (null entries: no context), or null when no store was given.
     */
    public record Result(Map<String, List<SampleScore>> scores, boolean partial, List<RetrievalHits.Hit> retrieval) {
        /** The metrics of each model evaluated, in the order evaluated (retrieval_hit_rate, the same for all, with each). */
        public Map<String, Map<String, Double>> metrics() {
            Map<String, Map<String, Double>> out = new LinkedHashMap<>();
            scores.forEach((label, s) -> {
                Map<String, Double> m = Metrics.of(s);
                if (retrieval != null) m.put("retrieval_hit_rate", RetrievalHits.rate(retrieval));
                out.put(label, m);
            });
            return out;
        }

        public Result withRetrieval(List<RetrievalHits.Hit> hits) {
            return new Result(scores, partial, hits);
        }

        /** The model the evaluation is about: base + adapter when there is one, else the base. */
        public String subject() {
            return scores.containsKey(ADAPTER) ? ADAPTER : BASE;
        }
    }

    private Evaluation() {}

    /**
     * @param adapter null: the base alone; else applied (unmerged) before its samples are scored
     * @param compare with an adapter: the base first, on the same samples
     * @param judge   grades every answer when not null
     */
    public static Result run(LanguageModel model, PeftAdapter adapter, boolean compare, PromptTemplate template,
                             Evaluator.Settings settings, List<QaSample> samples, Judge judge, BooleanSupplier cancelled) {
        List<String> labels = adapter == null ? List.of(BASE) : compare ? List.of(BASE, ADAPTER) : List.of(ADAPTER);
        Map<String, List<SampleScore>> scores = new LinkedHashMap<>();
        try (Progress progress = Progress.start("eval", (long) labels.size() * samples.size(), "answers")) {
            for (String label : labels) {
                if (cancelled.getAsBoolean()) break;
                if (label.equals(ADAPTER)) LoraLayers.apply(adapter, model.model());
                Evaluator evaluator = new Evaluator(model, template, settings);
                List<SampleScore> done = new ArrayList<>();
                double rouge = 0; // the running mean the progress line shows, without rescoring every answer each time
                for (QaSample sample : samples) {
                    if (cancelled.getAsBoolean()) break;
                    SampleScore s = evaluator.score(sample, cancelled);
                    if (s.finishReason().equals("cancelled")) break; // an answer cut short is no answer to score
                    if (judge != null) {
                        s = s.withJudge(s.finishReason().equals("prompt_too_long") ? Judge.Grades.missing("no answer: the prompt fills the context")
                                : judge.grade(sample, s.answer(), cancelled));
                    }
                    done.add(s);
                    rouge += s.rouge().f1();
                    progress.advance(1, String.format(Locale.ROOT, "%s rouge_l %.3f", label, rouge / done.size()));
                }
                if (!done.isEmpty()) scores.put(label, done); // a model with no sample scored (stopped first) has no metrics
            }
        }
        boolean partial = scores.size() < labels.size() || scores.values().stream().anyMatch(s -> s.size() < samples.size());
        return new Result(scores, partial, null);
    }
}
