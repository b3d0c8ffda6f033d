package dev.finadvisor.app;

import dev.finadvisor.training.dataset.NewsSample;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dataset news}: writes the bundled news sample, so the offline pipelines have news to ingest. */
@Command(name = "news", mixinStandardHelpOptions = true,
        description = "Write the bundled sample of short fictional news articles (Alpaca's news format, JSON Lines): "
                + "news for 'ingest --source jsonl' and 'dataset synth --news' without an Alpaca account.")
final class DatasetNewsCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "FILE.jsonl", description = "Where to write the articles.")
    Path out;

    @Mixin
    ReplaceOption replace;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        replace.check(out);
        NewsSample.writeBundled(out);
        spec.commandLine().getOut().printf("wrote %d articles to %s%n", NewsSample.bundled().size(), out);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
