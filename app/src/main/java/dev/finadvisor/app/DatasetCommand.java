package dev.finadvisor.app;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** The {@code dataset} group: inspect and generate Q&A training data. */
@Command(name = "dataset", mixinStandardHelpOptions = true,
        description = "Inspect and generate Q&A training data (about_me, context, question, response; JSON array or JSON Lines).",
        subcommands = {DatasetStatsCommand.class, DatasetSynthCommand.class, DatasetGenerateCommand.class, DatasetNewsCommand.class,
                DatasetCorpusCommand.class})
final class DatasetCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
