package dev.finadvisor.app;

import dev.finadvisor.domain.config.ConfigLoader;
import dev.finadvisor.domain.runs.RunLayout;
import dev.finadvisor.training.sft.SftConfig;
import dev.finadvisor.training.sft.SftJob;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Fine-tunes a base model with LoRA or QLoRA on Q&A samples; the keys are Hugging Face Trainer's. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Fine-tune a base model with LoRA (or QLoRA: an NF4 base) on Q&A samples, writing a run directory with checkpoints, metrics.jsonl and adapter/ in PEFT format.",
                "Ctrl-C ends after the step under way, saved as a checkpoint; --resume RUN_DIR continues from the latest one."})
final class TrainCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Option(names = "--resume", paramLabel = "RUN_DIR", description = "Continue the run in RUN_DIR from its latest checkpoint, with the configuration it started with (RUN_DIR/config.yaml, unless --config is given; --set still overrides keys): the same settings give the same loss curve.")
    Path resume;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Path saved = resume == null ? null : new RunLayout(resume).config();
        ConfigLoader.Loaded<SftConfig> loaded = config.load(SftConfig.class, SftConfig.DEFAULTS,
                saved != null && Files.isRegularFile(saved) ? saved : null);
        SftJob.Outcome o = new SftJob(loaded, line -> {
            out.println(line);
            out.flush();
        }).run(resume);
        if (o.adapterDir() == null) return 130; // stopped by a signal (the JVM exits with its own status); the job said where
        out.printf("done: %d steps%s; adapter in %s%n", o.state().step(),
                o.state().bestStep() >= 0 ? String.format(" (best eval_loss %.4f at step %d)", o.state().bestEvalLoss(), o.state().bestStep()) : "",
                o.adapterDir());
        return 0;
    }
}
