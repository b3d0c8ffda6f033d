package dev.finadvisor.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.retrieval.Hit;
import dev.finadvisor.retrieval.HitJson;
import dev.finadvisor.retrieval.MiniLmEmbedder;
import dev.finadvisor.retrieval.SearchFilter;
import dev.finadvisor.retrieval.StoreConfig;
import dev.finadvisor.retrieval.TimeWindow;
import dev.finadvisor.retrieval.VectorStore;
import dev.finadvisor.retrieval.VectorStores;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Embeds a question and prints the nearest news chunks in the vector store. */
@Command(name = "search", mixinStandardHelpOptions = true,
        description = "Search the news vector store: embed the question with all-MiniLM-L6-v2 and print the nearest chunks"
                + " with score (cosine), headline, time, symbols and url.")
final class SearchCommand implements Callable<Integer> {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm'Z'").withZone(ZoneOffset.UTC);

    @Mixin
    ConfigOptions config;

    @Option(names = "--store", paramLabel = "DIR", description = "Lucene index directory to search (sets store.type=lucene and store.path; default: from the configuration, data/vector-store).")
    Path store;

    @Option(names = "--since", paramLabel = "24h|DATE", description = "Only news created since then: a duration back from now (90m, 24h, 7d, 2w), a UTC date (2026-01-05) or an instant. Default: no time filter.")
    String since;

    @Option(names = "--symbols", paramLabel = "AAPL,MSFT", split = ",", description = "Only news naming at least one of these tickers (case-insensitive).")
    List<String> symbols = List.of();

    @Option(names = "-k", paramLabel = "K", defaultValue = "5", description = "How many hits to print (default: ${DEFAULT-VALUE}).")
    int k;

    @Option(names = "--json", description = "Print the hits as a JSON array (id, score, and the whole payload) instead of text.")
    boolean json;

    @Option(names = "--quantized", description = "Embed with the int8-quantized MiniLM; use it only if the store was built with it.")
    boolean quantized;

    @Parameters(paramLabel = "QUESTION", arity = "1..*", description = "The question text (several words are joined with spaces).")
    List<String> question;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (k < 1 || k > 1000) throw new UserError("-k " + k + ": must be between 1 and 1000");
        StoreConfig storeConfig = config.load(SearchConfig.class, "search-defaults.yaml").value().store();
        if (store != null) storeConfig = StoreConfig.lucene(store);
        Instant from = since == null ? null : TimeWindow.since("--since", since, Clock.systemUTC());
        Set<String> tickers = new LinkedHashSet<>();
        for (String s : symbols) if (!s.isBlank()) tickers.add(s.strip().toUpperCase(Locale.ROOT));
        SearchFilter filter = new SearchFilter(from, null, tickers);
        String text = String.join(" ", question).strip();
        if (text.isEmpty()) throw new UserError("QUESTION is empty: give the question text to search for");

        try (VectorStore vectors = VectorStores.openForSearch(storeConfig, MiniLmEmbedder.DIMENSION);
             MiniLmEmbedder embedder = MiniLmEmbedder.load(
                     quantized ? MiniLmEmbedder.Variant.QUANTIZED : MiniLmEmbedder.Variant.FULL, MiniLmEmbedder.OverLength.REJECT)) {
            float[] query;
            try {
                query = embedder.embed(text);
            } catch (IllegalArgumentException e) {
                throw new UserError("QUESTION: " + e.getMessage(), e);
            }
            List<Hit> hits = vectors.search(query, k, filter);
            PrintWriter out = spec.commandLine().getOut();
            if (json) printJson(out, hits);
            else printText(out, hits, filter);
        }
        return 0;
    }

    private static void printText(PrintWriter out, List<Hit> hits, SearchFilter filter) {
        if (hits.isEmpty()) {
            out.println(filter.isEmpty() ? "no hits: the store is empty" : "no hits: no stored news passes the filter");
            return;
        }
        int rank = 1;
        for (Hit h : hits) {
            var p = h.payload();
            out.printf(Locale.ROOT, "%d. %.4f  %s  [%s]  %s%n", rank++, h.score(), TIME.format(p.createdAt()),
                    String.join(", ", p.symbols()), oneLine(p.headline()));
            out.printf(Locale.ROOT, "   %s%n", p.url() == null ? "" : p.url());
            out.printf(Locale.ROOT, "   %s%n", abbreviate(oneLine(p.text()), 160));
        }
    }

    private static void printJson(PrintWriter out, List<Hit> hits) {
        try {
            out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(HitJson.of(hits)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write hits as JSON", e);
        }
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s+", " ").strip();
    }

    private static String abbreviate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }
}
