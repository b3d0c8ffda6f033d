package dev.finadvisor.training.pretrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.config.ConfigLoader;
import dev.finadvisor.domain.runs.RunStatus;
import dev.finadvisor.domain.runs.RunStore;
import dev.finadvisor.llm.GenerationConfig;
import dev.finadvisor.llm.LanguageModel;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.TokenListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiny Llama learns a tiny language from scratch: its held-out loss falls and its checkpoint continues a sentence. */
class PretrainJobTest {
    @TempDir Path dir;

    private Path corpus() throws Exception {
        Random r = new Random(1);
        String[] tickers = {"Apple", "Tesla", "Nvidia", "Amazon", "Microsoft"};
        String[] moves = {"rose", "fell"};
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 400; i++) {
            String t = tickers[r.nextInt(tickers.length)];
            text.append("Shares of ").append(t).append(' ').append(moves[r.nextInt(2)]).append(" today, and investors watched ").append(t)
                    .append(" closely.\n\n");
        }
        return Files.writeString(dir.resolve("corpus.txt"), text);
    }

    private ConfigLoader.Loaded<PretrainConfig> config(Path corpus, Path tokenizer, String... more) {
        List<String> sets = new ArrayList<>(List.of("model.tokenizer=" + tokenizer, "model.hidden_size=64", "model.intermediate_size=128",
                "model.num_layers=2", "model.num_heads=4", "model.num_kv_heads=2", "model.max_seq_length=32", "data.corpus=[" + corpus + "]",
                "data.validation_fraction=0.1", "training.batch_size=8", "training.learning_rate=0.01", "training.warmup_steps=5",
                "training.max_steps=80", "training.eval_steps=40", "training.eval_blocks=4", "training.logging_steps=20",
                "output_dir=" + dir.resolve("runs")));
        sets.addAll(List.of(more));
        return new ConfigLoader().load(PretrainConfig.class, PretrainConfig.DEFAULTS, null, sets);
    }

    @Test
    void aTinyLlamaLearnsTheCorpusAndItsCheckpointGenerates() throws Exception {
        Path corpus = corpus();
        Path tokenizer = dir.resolve("tok");
        RandomCheckpoint.writeTokenizer(tokenizer, Files.readString(corpus), 300, true, 64);
        List<String> said = new ArrayList<>();
        PretrainJob.Outcome o = new PretrainJob(config(corpus, tokenizer), said::add).run(null);

        assertThat(o.firstEvalLoss()).as("random weights: about ln(300)").isGreaterThan(5);
        assertThat(o.lastEvalLoss()).as("after 80 steps").isLessThan(o.firstEvalLoss() - 3);
        assertThat(RunStore.readDir(o.runDir()).status()).isEqualTo(RunStatus.FINISHED);
        assertThat(RunStore.readDir(o.runDir()).info().finalMetrics()).containsKeys("eval_loss", "perplexity");
        assertThat(said).anyMatch(l -> l.startsWith("model: Llama, 2 layers, hidden 64"));
        try (LanguageModel lm = LanguageModel.load(o.modelDir())) {
            int[] prompt = lm.tokenizer().encode("Shares of Tesla", true); // as generate and serve encode a prompt
            String text = lm.generate(prompt, new GenerationConfig(8, 0, 0, 1, 1, 0L, List.of()), TokenListener.NONE, () -> false).text();
            assertThat(text).as("the corpus's grammar").matches("(?s) (rose|fell) today, and.*");
        }
    }

    @Test
    void stoppedAfterAStepAndResumedItEndsAsTheUninterruptedRunDoes() throws Exception {
        Path corpus = corpus();
        Path tokenizer = dir.resolve("tok-resume");
        RandomCheckpoint.writeTokenizer(tokenizer, Files.readString(corpus), 300, true, 64);
        String[] sets = {"training.max_steps=20", "training.eval_steps=10", "training.logging_steps=5", "training.save_steps=100"};
        PretrainJob.Outcome straight = new PretrainJob(config(corpus, tokenizer, sets), l -> { }).run(null);

        PretrainJob[] job = new PretrainJob[1];
        job[0] = new PretrainJob(config(corpus, tokenizer, sets), line -> { // as Ctrl-C would, from another thread, during step 10
            if (line.startsWith("step 10/20")) job[0].requestStop();
        });
        PretrainJob.Outcome stopped = job[0].run(null);
        assertThat(stopped.stopped()).isTrue();
        assertThat(stopped.steps()).isEqualTo(10);
        assertThat(stopped.runDir().resolve("checkpoints/checkpoint-10")).isDirectory();
        assertThat(RunStore.readDir(stopped.runDir()).status()).isEqualTo(RunStatus.KILLED);

        PretrainJob.Outcome resumed = new PretrainJob(config(corpus, tokenizer, sets), l -> { }).run(stopped.runDir());
        assertThat(resumed.runDir()).isEqualTo(stopped.runDir());
        assertThat(resumed.lastEvalLoss()).isCloseTo(straight.lastEvalLoss(), org.assertj.core.api.Assertions.within(1e-5));
        assertThat(RunStore.readDir(resumed.runDir()).status()).isEqualTo(RunStatus.FINISHED);
        try (LanguageModel lm = LanguageModel.load(resumed.modelDir())) {
            assertThat(lm.config().vocabSize()).isEqualTo(300);
        }
    }

    @Test
    void aCorpusTooSmallForOneBlockIsAUserError() throws Exception {
        Path small = Files.writeString(dir.resolve("small.txt"), "Shares rose.");
        Path tokenizer = dir.resolve("tok2");
        RandomCheckpoint.writeTokenizer(tokenizer, "Shares rose.", 300, true, 64);
        assertThatThrownBy(() -> new PretrainJob(config(small, tokenizer), l -> { }).run(null)).isInstanceOf(UserError.class)
                .hasMessageContaining("fewer than one block");
        assertThatThrownBy(() -> config(small, tokenizer, "model.num_heads=3")).hasMessageContaining("model.hidden_size");
    }
}
