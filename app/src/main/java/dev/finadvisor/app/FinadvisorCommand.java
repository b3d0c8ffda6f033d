package dev.finadvisor.app;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The root command; each subcommand is one job. Issues that build a job add it here. */
@Command(name = "finadvisor",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Fine-tune an open LLM into an investing advisor and serve it, grounded in real-time financial news.",
        subcommands = {
                DoctorCommand.class,
                // feature pipeline
                IngestCommand.class,
                SearchCommand.class,
                // training pipeline
                DatasetCommand.class,
                RandomModelCommand.class,
                TokenizerCommand.class,
                PretrainCommand.class,
                TrainCommand.class,
                RunsCommand.class,
                RegistryCommand.class,
                ExportCommand.class,
                EvalCommand.class,
                // inference pipeline
                GenerateCommand.class,
                ServeCommand.class,
        },
        footer = {"", "Run 'finadvisor COMMAND --help' for a command's options.",
                "Secrets come only from the environment: ALPACA_API_KEY, ALPACA_API_SECRET, OPENAI_API_KEY, HF_TOKEN, FINADVISOR_API_KEYS, QDRANT_API_KEY."})
public final class FinadvisorCommand implements Runnable {
    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT, description = "Debug logging and stack traces on errors.")
    private boolean verbose;

    @picocli.CommandLine.Spec
    private picocli.CommandLine.Model.CommandSpec spec;

    boolean verbose() {
        return verbose;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
