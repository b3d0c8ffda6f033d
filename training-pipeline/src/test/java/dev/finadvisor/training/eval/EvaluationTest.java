package dev.finadvisor.training.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.finadvisor.domain.prompt.PromptTemplate;
import dev.finadvisor.domain.prompt.PromptTemplates;
import dev.finadvisor.domain.prompt.RenderedPrompt;
import dev.finadvisor.domain.qa.QaSample;
import dev.finadvisor.llm.LanguageModel;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.lora.LoraConfig;
import dev.finadvisor.llm.lora.LoraWeights;
import dev.finadvisor.llm.lora.PeftAdapter;
import dev.finadvisor.llm.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvaluationTest {
    @TempDir static Path dir;
    static Path model;
    static final Evaluator.Settings SETTINGS = new Evaluator.Settings(4, 1.0, 1024);
    static final List<QaSample> SAMPLES = List.of(
            new QaSample("I am 35 with a moderate risk tolerance.", "Tech stocks fell 3% on rate fears.", "Should I buy the dip?",
                    "Buy index funds in small steps over a few months."),
            new QaSample("I am 60 and retiring soon.", "Bond yields rose to 5%.", "Is it time for bonds?",
                    "Yes: lock in some of the higher yields with short-term bonds."));

    @BeforeAll
    static void checkpoint() throws Exception {
        model = RandomCheckpoint.tiny("llama").write(dir.resolve("llama"));
    }

    /** q_proj of the tiny Llama (64 -> 64) in both layers, B non-zero: the adapter changes what the model computes. */
    static PeftAdapter adapter() {
        Random random = new Random(3);
        Map<String, LoraWeights> modules = new LinkedHashMap<>();
        for (int layer = 0; layer < 2; layer++) {
            float[] a = new float[2 * 64];
            float[] b = new float[64 * 2];
            for (int i = 0; i < a.length; i++) a[i] = (float) random.nextGaussian();
            for (int i = 0; i < b.length; i++) b[i] = (float) random.nextGaussian();
            modules.put("model.layers." + layer + ".self_attn.q_proj", new LoraWeights(2, 64, 64, a, b));
        }
        return new PeftAdapter(new LoraConfig(2, 4, 0, List.of("q_proj"), model.toString(), "falcon"), modules);
    }

    @Test
    void theLossIsTheMeanNegativeLogLikelihoodOfTheReferenceAnswersTokens() {
        try (LanguageModel lm = LanguageModel.load(model); NDManager m = NDManager.newBaseManager()) {
            PromptTemplate template = PromptTemplates.byName("falcon", model);
            QaSample sample = SAMPLES.get(0);
            SampleScore score = new Evaluator(lm, template, SETTINGS).score(sample, () -> false);

            // Reference: every position's logits for the whole rendered text, log-softmax in Java, summed over the tokens
            // of the answer span (from the first token not shared with the prompt alone, to the end of the text).
            Tokenizer tok = lm.tokenizer();
            RenderedPrompt r = template.render(sample, true);
            assertThat(r.answerEnd()).isEqualTo(r.text().length());
            int[] full = tok.encode(r.text(), true);
            int[] prompt = tok.encode(r.text().substring(0, r.answerStart()), true);
            int start = 0;
            while (start < prompt.length && prompt[start] == full[start]) start++;
            long[] inputs = new long[full.length - 1];
            for (int i = 0; i < inputs.length; i++) inputs[i] = full[i];
            NDArray logits = lm.model().forward(m.create(inputs, new Shape(1, inputs.length)));
            int vocab = (int) logits.getShape().get(2);
            float[] all = logits.toFloatArray();
            double sum = 0;
            for (int t = start - 1; t < full.length - 1; t++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < vocab; v++) max = Math.max(max, all[t * vocab + v]);
                double z = 0;
                for (int v = 0; v < vocab; v++) z += Math.exp(all[t * vocab + v] - max);
                sum -= all[t * vocab + full[t + 1]] - max - Math.log(z);
            }
            assertThat(score.answerTokens()).isEqualTo(full.length - start).isPositive();
            assertThat(score.lossSum() / score.answerTokens()).isCloseTo(sum / (full.length - start), within(1e-4));
            assertThat(score.completionTokens()).isBetween(1, 4);
            assertThat(score.rouge().f1()).isEqualTo(RougeL.score(score.answer(), sample.response()).f1());
        }
    }

    @Test
    void compareScoresTheBaseThenTheAdapterOnTheSameSamples() {
        PromptTemplate template = PromptTemplates.byName("falcon", model);
        Evaluation.Result both;
        Evaluation.Result alone;
        try (LanguageModel lm = LanguageModel.load(model)) {
            both = Evaluation.run(lm, adapter(), true, template, SETTINGS, SAMPLES, null, () -> false);
        }
        try (LanguageModel lm = LanguageModel.load(model)) {
            alone = Evaluation.run(lm, adapter(), false, template, SETTINGS, SAMPLES, null, () -> false);
        }
        assertThat(both.partial()).isFalse();
        assertThat(both.scores().keySet()).containsExactly(Evaluation.BASE, Evaluation.ADAPTER);
        assertThat(both.subject()).isEqualTo(Evaluation.ADAPTER);
        double base = both.metrics().get(Evaluation.BASE).get("loss");
        double adapted = both.metrics().get(Evaluation.ADAPTER).get("loss");
        assertThat(adapted).as("the adapter changes the loss").isNotCloseTo(base, within(1e-3));
        assertThat(alone.scores().keySet()).containsExactly(Evaluation.ADAPTER);
        assertThat(alone.metrics().get(Evaluation.ADAPTER).get("loss")).as("scoring the base first leaves nothing behind")
                .isCloseTo(adapted, within(1e-6));
        assertThat(alone.scores().get(Evaluation.ADAPTER).get(1).answer()).isEqualTo(both.scores().get(Evaluation.ADAPTER).get(1).answer());
    }

    @Test
    void cancellingKeepsTheSamplesScoredAndMarksThemPartial() {
        PromptTemplate template = PromptTemplates.byName("falcon", model);
        try (LanguageModel lm = LanguageModel.load(model)) {
            AtomicInteger calls = new AtomicInteger();
            Evaluation.run(lm, null, false, template, SETTINGS, SAMPLES.subList(0, 1), null, () -> calls.incrementAndGet() < 0);
            int oneSample = calls.get(); // how often scoring one sample asks; then cancel as the second one's answer starts
            BooleanSupplier cancelled = () -> calls.incrementAndGet() > 2 * oneSample + 1;
            Evaluation.Result r = Evaluation.run(lm, null, false, template, SETTINGS, SAMPLES, null, cancelled);
            assertThat(r.partial()).isTrue();
            assertThat(r.scores().get(Evaluation.BASE)).hasSize(1);
        }
    }
}
