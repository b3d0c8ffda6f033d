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
                + "generate with or serve. Keys and defaults: pretrain-defaults.yaml (model.*, data.corpus, training.*)."})
final class PretrainCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PretrainJob.Outcome o = new PretrainJob(config.load(PretrainConfig.class, PretrainConfig.DEFAULTS), line -> {
            out.println(line);
            out.flush();
        }).run();
        out.printf("done: %d steps; model in %s%n", o.steps(), o.modelDir());
        return 0;
    }
}
