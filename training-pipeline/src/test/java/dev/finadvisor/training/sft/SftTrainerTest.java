package dev.finadvisor.training.sft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.llm.lora.LoraWeights;
import dev.finadvisor.llm.lora.PeftAdapter;
import dev.finadvisor.training.tracking.RunSpec;
import dev.finadvisor.training.tracking.RunTracker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SftTrainerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir Path dir;

    /** Prompts of varied tokens, answers following a fixed successor rule (t -> t+1 mod 8, offset by 8). */
    static List<Example> examples(int n, int seed) {
        List<Example> list = new ArrayList<>();
        java.util.Random r = new java.util.Random(seed);
        for (int i = 0; i < n; i++) {
            int promptLength = 2 + r.nextInt(4);
            int answerLength = 3 + r.nextInt(3);
            int[] tokens = new int[promptLength + answerLength];
            for (int t = 0; t < promptLength; t++) tokens[t] = r.nextInt(8);
            int start = 8 + r.nextInt(8);
            for (int t = 0; t < answerLength; t++) tokens[promptLength + t] = 8 + (start - 8 + t) % 8;
            list.add(new Example(tokens, promptLength + 1, tokens.length, false));
        }
        return list;
    }

    static SftConfig.Training training(int batch, int accumulation, double lr, int maxSteps, int saveSteps, int limit) {
        return new SftConfig.Training(batch, accumulation, lr, 0.01, 0.9, 0.999, 1e-8, "linear", 0.1, 0, 1.0,
                1, maxSteps, 2, 4, saveSteps, limit, true, 42, false);
    }

    /** A run folder of its own under {@code runsDir}, without the HTML report (charts cost time, not checks). */
    static RunTracker run(Path runsDir) {
        return RunTracker.start(new RunSpec(runsDir, "t", null, null, null, "test", "cpu()").withoutReport());
    }

    private SftTrainer trainer(TinyBigramModel model, UnaryOperator<NDArray> forward, SftConfig.Training t, RunTracker run) {
        return new SftTrainer(forward, model.lora, examples(12, 1), examples(4, 2), new SftTrainer.Settings(t, 0),
                new Checkpoints(run.checkpointsDir()), run, model.manager);
    }


    private static List<JsonNode> metrics(RunTracker run) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.layout().metrics())) out.add(JSON.readTree(line));
        return out;
    }

    @Test
    void overfitsATinyModelOnAFewSamples() throws IOException {
        try (TinyBigramModel model = new TinyBigramModel(TinyBigramModel.config(0.0), 1)) {
            RunTracker run = run(dir);
            SftTrainer trainer = trainer(model, model.forward(), training(4, 1, 0.05, 150, 50, 2), run);
            double before = trainer.evaluate();
            SftTrainer.Result result = trainer.run(null);
            run.finish(Map.of());
            assertThat(before).isGreaterThan(1.0);
            assertThat(result.lastLoss()).isLessThan(0.05);
            List<JsonNode> m = metrics(run);
            JsonNode last = m.get(m.size() - 1);
            assertThat(last.get("eval_loss").asDouble()).isLessThan(0.1); // the rule generalises to held-out answers
            assertThat(last.get("perplexity").asDouble()).isCloseTo(Math.exp(last.get("eval_loss").asDouble()), within(1e-9));
            assertThat(m.get(0).get("learning_rate").asDouble()).isLessThan(0.05); // warmup
            assertThat(m.get(0).has("grad_norm")).isTrue();
            assertThat(m.get(0).get("tokens_per_s").asDouble()).isPositive();
        }
    }

    @Test
    void gradientAccumulationIsEquivalentToTheBiggerBatch() {
        float[][] big;
        float[][] accumulated;
        try (TinyBigramModel model = new TinyBigramModel(TinyBigramModel.config(0.0), 5)) {
            try (RunTracker r = run(dir.resolve("big"))) {
                trainer(model, model.forward(), training(4, 1, 0.01, 3, 100, 1), r).run(null);
                r.finish(Map.of());
            }
            big = factors(model);
        }
        try (TinyBigramModel model = new TinyBigramModel(TinyBigramModel.config(0.0), 5)) {
            try (RunTracker r = run(dir.resolve("acc"))) {
                trainer(model, model.forward(), training(1, 4, 0.01, 3, 100, 1), r).run(null);
                r.finish(Map.of());
            }
            accumulated = factors(model);
        }
        for (int i = 0; i < big.length; i++) {
            for (int j = 0; j < big[i].length; j++) assertThat(accumulated[i][j]).isCloseTo(big[i][j], within(1e-5f));
        }
        assertThat(big[1]).isNotEqualTo(new float[big[1].length]); // B moved away from zero: the check is not vacuous
    }

    private static float[][] factors(TinyBigramModel model) {
        List<float[]> out = new ArrayList<>();
        for (LoraWeights w : model.lora.toAdapter().modules().values()) {
            out.add(w.a());
            out.add(w.b());
        }
        return out.toArray(new float[0][]);
    }

    @Test
    void resumingAfterAKillReproducesTheLossCurve() throws IOException {
        SftConfig.Training t = training(2, 2, 0.02, 16, 4, 2);
        RunTracker full = run(dir.resolve("full"));
        float[][] uninterrupted;
        try (TinyBigramModel model = new TinyBigramModel(TinyBigramModel.config(0.2), 3)) {
            trainer(model, model.forward(), t, full).run(null);
            full.finish(Map.of());
            uninterrupted = factors(model);
        }
        RunTracker cut = run(dir.resolve("cut"));
        try (TinyBigramModel model = new TinyBigramModel(TinyBigramModel.config(0.2), 3)) {
            AtomicInteger calls = new AtomicInteger();
            UnaryOperator<NDArray> dying = ids -> {
                // 2 forward passes per step, 2 per evaluation (at step 4): call 14 is the second half of step 6
                if (calls.incrementAndGet() > 13) throw new IllegalStateException("killed");
                return model.forward().apply(ids);
            };
            assertThatThrownBy(() -> trainer(model, dying, t, cut).run(null)).hasMessage("killed");
            cut.fail(new IllegalStateException("killed"));
        }
        Checkpoints checkpoints = new Checkpoints(cut.checkpointsDir());
        assertThat(checkpoints.latest()).contains(4);
        RunTracker resumedRun = RunTracker.resume(cut.dir(), 4, false);
        try (TinyBigramModel model = new TinyBigramModel(TinyBigramModel.config(0.2), 77)) { // fresh init: all comes from the checkpoint
            trainer(model, model.forward(), t, resumedRun).run(checkpoints.dirFor(4));
            resumedRun.finish(Map.of());
            float[][] resumed = factors(model);
            for (int i = 0; i < resumed.length; i++) {
                for (int j = 0; j < resumed[i].length; j++) assertThat(resumed[i][j]).isCloseTo(uninterrupted[i][j], within(1e-5f));
            }
        }
        List<JsonNode> a = metrics(full);
        List<JsonNode> b = metrics(cut);
        assertThat(b).hasSameSizeAs(a);
        for (int i = 0; i < a.size(); i++) {
            assertThat(b.get(i).get("step").asInt()).isEqualTo(a.get(i).get("step").asInt());
            for (String key : List.of("loss", "eval_loss", "learning_rate", "grad_norm")) {
                if (a.get(i).has(key)) assertThat(b.get(i).get(key).asDouble()).as("%s at %s", key, a.get(i)).isCloseTo(a.get(i).get(key).asDouble(), within(1e-5));
            }
        }
    }

    @Test
    void aNanLossStopsTheRunAndKeepsTheLastGoodCheckpoint() {
        try (TinyBigramModel model = new TinyBigramModel(TinyBigramModel.config(0.0), 1)) {
            AtomicInteger calls = new AtomicInteger();
            NDArray nan = model.manager.create(Float.NaN);
            UnaryOperator<NDArray> poisoned = ids -> {
                NDArray out = model.forward().apply(ids);
                return calls.incrementAndGet() > 8 ? out.mul(nan) : out; // 4 steps, then 4 validation batches
            };
            SftConfig.Training t = training(1, 1, 0.01, 20, 2, 3);
            RunTracker run = run(dir);
            assertThatThrownBy(() -> trainer(model, poisoned, t, run).run(null))
                    .isInstanceOf(TrainingDivergedException.class)
                    .hasMessageContaining("step 5")
                    .hasMessageContaining("NaN")
                    .hasMessageContaining("checkpoint-4");
            PeftAdapter kept = Checkpoints.load(run.checkpointsDir().resolve("checkpoint-4")).adapter();
            run.close();
            for (LoraWeights w : kept.modules().values()) {
                for (float v : w.b()) assertThat(v).isFinite();
            }
        }
    }

    @Test
    void keepsTheNewestCheckpointsPlusTheBest() {
        try (TinyBigramModel model = new TinyBigramModel(TinyBigramModel.config(0.0), 1)) {
            // a learning rate so high the eval loss gets worse after the first evaluations
            RunTracker run = run(dir);
            SftTrainer.Result result = trainer(model, model.forward(), training(4, 1, 3.0, 16, 2, 2), run).run(null);
            run.finish(Map.of());
            List<Integer> kept = new Checkpoints(run.checkpointsDir()).steps();
            assertThat(kept).contains(14, 16);
            int best = result.state().bestStep();
            assertThat(kept).contains(best);
            assertThat(kept).hasSizeLessThanOrEqualTo(3);
            assertThat(run.checkpointsDir().toFile().list()).allMatch(n -> n.startsWith("checkpoint-")); // no temp folders left
        }
    }

    @Test
    void theLogShowsNumbersAsRunsListDoes() {
        Map<String, Double> record = new LinkedHashMap<>();
        record.put("epoch", 1.0 / 14);
        record.put("loss", 6.220743765116324);
        record.put("learning_rate", 2.0e-4);
        record.put("tokens_per_s", 2950.0461568427822);
        record.put("eval_loss", Double.NaN);
        assertThat(SftTrainer.readable(record))
                .isEqualTo("{epoch=0.07143, loss=6.221, learning_rate=2.000e-04, tokens_per_s=2950, eval_loss=NaN}");
    }
}
