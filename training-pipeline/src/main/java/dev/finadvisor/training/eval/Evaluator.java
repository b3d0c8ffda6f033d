package dev.finadvisor.training.eval;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.finadvisor.domain.prompt.PromptTemplate;
import dev.finadvisor.domain.qa.QaSample;
import dev.finadvisor.llm.GenerationConfig;
import dev.finadvisor.llm.GenerationResult;
import dev.finadvisor.llm.LanguageModel;
import dev.finadvisor.llm.TokenListener;
import dev.finadvisor.llm.train.TokenCrossEntropy;
import dev.finadvisor.training.sft.Batch;
import dev.finadvisor.training.sft.Example;
import dev.finadvisor.training.sft.ExampleBuilder;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Scores one model on Q&A samples, a sample at a time: the answer-token loss of the reference response, teacher-forced
 * with the training template (the prompt rendered and tokenised exactly as training does, the loss on the answer's
 * tokens only), and a greedy answer generated from the prompt the server renders (about me, the sample's news context,
 * question, history), stopped at the template's end-of-answer marker, scored with ROUGE-L against the reference.
 */
public final class Evaluator {
    /** Generation settings: the server's, made deterministic (greedy). */
    public record Settings(int maxNewTokens, double repetitionPenalty, int maxSeqLength) {}

    private final LanguageModel model;
    private final PromptTemplate template;
    private final Settings settings;
    private final ExampleBuilder examples;

    public Evaluator(LanguageModel model, PromptTemplate template, Settings settings) {
        this.model = model;
        this.template = template;
        this.settings = settings;
        this.examples = new ExampleBuilder(model.tokenizer(), template, Math.min(settings.maxSeqLength(), model.config().maxPositions()));
    }

    /** The sample's loss and generated answer; {@code cancelled} ends the generation early (the result is then incomplete). */
    public SampleScore score(QaSample sample, BooleanSupplier cancelled) {
        Loss loss = loss(sample);
        String prompt = template.render(QaSample.forInference(sample.aboutMe(), sample.context(), sample.question(), sample.chatHistory()), false).text();
        int[] ids = model.tokenizer().encode(prompt, true); // as the server does (BOS for a Llama tokenizer)
        int room = model.config().maxPositions() - ids.length;
        if (room < 1) {
            return new SampleScore(loss.sum, loss.tokens, "", "prompt_too_long", RougeL.score("", sample.response()), ids.length, 0, 0, 0, null);
        }
        GenerationConfig g = new GenerationConfig(Math.min(settings.maxNewTokens(), room), 0, 0, 1, settings.repetitionPenalty(), 0L,
                List.of(template.endOfAnswer()));
        long t0 = System.nanoTime();
        GenerationResult r = model.generate(ids, g, TokenListener.NONE, cancelled);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        int completion = r.generatedIds().length - (r.finishReason().equals("eos") && r.generatedIds().length > 0 ? 1 : 0);
        String answer = r.text().strip();
        return new SampleScore(loss.sum, loss.tokens, answer, r.finishReason(), RougeL.score(answer, sample.response()),
                ids.length, completion, ms, r.decodeTokensPerSecond(), null);
    }

    private record Loss(double sum, long tokens) {}

    private Loss loss(QaSample sample) {
        Example e = examples.build(sample);
        if (e == null) return new Loss(0, 0); // the answer starts past max_seq_length: nothing to score
        try (NDScope scope = new NDScope(); NDManager m = NDManager.newBaseManager()) {
            Batch b = Batch.of(List.of(e), 0, m);
            if (b.answerTokens() == 0) return new Loss(0, 0);
            double sum = TokenCrossEntropy.sum(model.model().forward(b.inputs(), (layer, hidden) -> hidden, b.answerPositions()),
                    b.answerTargets()).getFloat();
            return new Loss(sum, b.answerTokens());
        }
    }
}
