package dev.finadvisor.app;

import dev.finadvisor.domain.news.NewsArticle;
import dev.finadvisor.domain.qa.QaDataset;
import dev.finadvisor.domain.qa.QaSample;
import dev.finadvisor.training.dataset.NewsSample;
import dev.finadvisor.training.dataset.SyntheticQaGenerator;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dataset synth}: writes a synthetic Q&A training set offline. */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = {"Generate a Q&A training set offline, without a teacher LLM: news (the bundled sample or --news), "
                + "made-up investors whose goals fit their age, and rule-written advice. The same seed gives the same file."})
final class DatasetSynthCommand implements Callable<Integer> {
    @Option(names = "--n", required = true, paramLabel = "N", description = "How many samples to write.")
    int n;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output file: JSON Lines, or a JSON array if it ends in .json.")
    Path out;

    @Option(names = "--news", paramLabel = "FILE.jsonl", description = "Alpaca news objects, one per line, instead of the bundled sample.")
    Path news;

    @Mixin
    ReplaceOption replace;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        replace.check(out);
        List<NewsArticle> articles = news == null ? NewsSample.bundled() : NewsSample.load(news);
        List<QaSample> samples = new SyntheticQaGenerator(articles).generate(n, seed);
        QaDataset.write(out, samples);
        spec.commandLine().getOut().printf("wrote %d samples to %s (news: %s, %d articles; seed %d)%n", samples.size(), out,
                news == null ? "bundled sample" : news.toString(), articles.size(), seed);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
