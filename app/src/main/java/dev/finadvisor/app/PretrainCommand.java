package dev.finadvisor.app;

import dev.finadvisor.training.pretrain.PretrainConfig;
import dev.finadvisor.training.pretrain.PretrainJob;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Pretrains a small Llama from scratch on a corpus, every weight trainable, into a Hugging Face checkpoint. */
@Command(name = "pretrain", mixinStandardHelpOptions = true,
        description = {"Pretrain a small Llama from scratch (every weight trainable) on a corpus with a tokenizer of your own "
                + "(finadvisor tokenizer train): next-token loss over the whole text, AdamW, warmup then cosine decay, validation "
                + "perplexity on held-out text; the run is tracked like train's, and RUN/model/ is a Hugging Face checkpoint to fine-tune, "
                + "generate with or serve. Keys and defaults: pretrain-defaults.yaml (model.*, data.corpus, training.*).",
                "Ctrl-C ends after the step under way, saved as a checkpoint; --resume RUN_DIR continues from the latest one."})
final class PretrainCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @picocli.CommandLine.Option(names = "--resume", paramLabel = "RUN_DIR",
            description = "Continue the run in RUN_DIR from its latest checkpoint, with the configuration it started with (RUN_DIR/config.yaml unless --config is given; --set still overrides keys).")
    java.nio.file.Path resume;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        java.nio.file.Path saved = resume == null ? null : new dev.finadvisor.domain.runs.RunLayout(resume).config();
        PretrainJob.Outcome o = new PretrainJob(config.load(PretrainConfig.class, PretrainConfig.DEFAULTS,
                saved != null && java.nio.file.Files.isRegularFile(saved) ? saved : null), line -> {
            out.println(line);
            out.flush();
        }).run(resume);
        if (o.stopped()) return 130; // Ctrl-C or SIGTERM: the job said where it stopped and how to continue
        out.printf("done: %d steps; model in %s%n", o.steps(), o.modelDir());
        return 0;
    }
}
