package dev.finadvisor.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.qa.QaDataset;
import dev.finadvisor.domain.qa.QaSample;
import dev.finadvisor.training.dataset.PretrainCorpus;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dataset corpus}: a pretraining corpus from what the project ships. */
@Command(name = "corpus", mixinStandardHelpOptions = true,
        description = {"Assemble a pretraining corpus (for 'tokenizer train' and 'pretrain') from what the project ships: the bundled news, "
                + "fictional news it writes, synthetic Q&A over both, and Q&A files you give (e.g. the course's), as labelled plain text, "
                + "shuffled. Samples held out for evaluation (--held-out) are left out, with any sample sharing their news and question or their answer.",
                "Writes JSON Lines, one {\"text\": ...} document per line. The same options give the same file."})
final class DatasetCorpusCommand implements Callable<Integer> {
    @Option(names = "--synth", paramLabel = "N", defaultValue = "30000", description = "Synthetic Q&A samples (default: ${DEFAULT-VALUE}, as finadvisor-mini's corpus).")
    int synth;

    @Option(names = "--written-news", paramLabel = "N", defaultValue = "3000", description = "Fictional news articles to write (default: ${DEFAULT-VALUE}, as finadvisor-mini's corpus).")
    int writtenNews;

    @Option(names = "--qa", paramLabel = "FILE", description = "Q&A samples to include as they are (repeatable; JSON array or JSON Lines).")
    List<Path> qa = new ArrayList<>();

    @Option(names = "--held-out", paramLabel = "FILE", description = "Q&A samples to keep out of the corpus: an evaluation set (repeatable).")
    List<Path> heldOut = new ArrayList<>();

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "FILE.jsonl", description = "Where to write the corpus.")
    Path out;

    @Mixin
    ReplaceOption replace;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        replace.check(out);
        PretrainCorpus.Result corpus = PretrainCorpus.build(new PretrainCorpus.Options(synth, writtenNews, seed, samples(qa), samples(heldOut)));
        ObjectMapper json = new ObjectMapper();
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        long bytes = 0;
        try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            for (String doc : corpus.documents()) {
                w.write(json.writeValueAsString(Map.of("text", doc)));
                w.write('\n');
                bytes += doc.getBytes(StandardCharsets.UTF_8).length;
            }
        }
        StringBuilder parts = new StringBuilder();
        corpus.counts().forEach((k, v) -> parts.append(parts.length() == 0 ? "" : ", ").append(String.format("%,d %s", v, k)));
        spec.commandLine().getOut().printf("wrote %,d documents (%,d bytes of text) to %s: %s%n", corpus.documents().size(), bytes, out, parts);
        spec.commandLine().getOut().flush();
        return 0;
    }

    private static List<QaSample> samples(List<Path> files) {
        List<QaSample> all = new ArrayList<>();
        for (Path f : files) all.addAll(QaDataset.load(f).samples());
        return all;
    }
}
