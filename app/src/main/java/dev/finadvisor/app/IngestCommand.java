package dev.finadvisor.app;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.config.Secrets;
import dev.finadvisor.feature.Ingest;
import dev.finadvisor.feature.IngestConfig;
import dev.finadvisor.retrieval.StoreConfig;
import dev.finadvisor.retrieval.TimeWindow;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Runs the feature pipeline: news from a file or Alpaca, cleaned, chunked and embedded into the vector store. */
@Command(name = "ingest", mixinStandardHelpOptions = true,
        description = {"Run the feature pipeline (Apache Flink): read news from a JSON Lines file, an Alpaca REST backfill or the Alpaca"
                + " news stream; validate, clean the HTML, chunk by the embedding model's word pieces, embed with all-MiniLM-L6-v2"
                + " and upsert into the vector store (idempotent: re-ingesting changes nothing, newer versions replace older).",
                "Ctrl-C stops after a savepoint; the same command later resumes from it."})
final class IngestCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Option(names = "--source", required = true, paramLabel = "SOURCE", converter = SourceConverter.class,
            description = "Where news comes from: jsonl (a file of Alpaca news objects), alpaca-backfill (REST, a date range) or alpaca-stream (WebSocket, until Ctrl-C).")
    Ingest.Source source;

    @Option(names = "--path", paramLabel = "FILE", description = "jsonl: the JSON Lines file, one Alpaca news object per line.")
    Path path;

    @Option(names = "--from", paramLabel = "DATE", description = "alpaca-backfill: start of the range (a UTC date 2024-05-01, an instant, or 7d/24h back); alpaca-stream: backfill from then before streaming.")
    String from;

    @Option(names = "--to", paramLabel = "DATE", description = "alpaca-backfill: end of the range (same forms as --from; a date means its midnight UTC). Default: now.")
    String to;

    @Option(names = "--symbols", paramLabel = "AAPL,TSLA", split = ",", description = "Only news naming these tickers (default: all news).")
    List<String> symbols = new ArrayList<>();

    @Option(names = "--store", paramLabel = "DIR", description = "Lucene index directory to write (sets store.type=lucene and store.path; default: from the configuration, data/vector-store).")
    Path store;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "Where checkpoints, dead-letters.jsonl and metrics.json go (default: beside the store, STORE.ingest).")
    Path stateDir;

    @Option(names = "--flink-master", paramLabel = "HOST:PORT", description = "Submit to this Flink cluster's REST endpoint instead of running in-process (ships the jars in lib/).")
    String flinkMaster;

    @Option(names = "--parallelism", paramLabel = "N", description = "Subtasks that parse, chunk and embed the news, keyed by article id, each with its own model (sets flink.parallelism; default 1). Qdrant gets as many writers; a Lucene index keeps one.")
    Integer parallelism;

    @Option(names = "--quantized", description = "Embed with the int8-quantized MiniLM (about twice as fast; search must use it too).")
    boolean quantized;

    @Option(names = "--fresh", description = "Ignore (delete) this command's saved checkpoints instead of resuming from them.")
    boolean fresh;

    @Spec
    CommandSpec spec;

    /** Accepts the source names with dashes, as documented. */
    static final class SourceConverter implements picocli.CommandLine.ITypeConverter<Ingest.Source> {
        @Override
        public Ingest.Source convert(String value) {
            for (Ingest.Source s : Ingest.Source.values()) {
                if (s.name().replace('_', '-').equalsIgnoreCase(value.strip())) return s;
            }
            throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not a source; use jsonl, alpaca-backfill or alpaca-stream");
        }
    }

    @Override
    public Integer call() throws Exception {
        if (parallelism != null) config.overrides.add(0, "flink.parallelism=" + parallelism); // an explicit --set wins
        IngestConfig cfg = config.load(IngestConfig.class, IngestConfig.DEFAULTS).value();
        if (store != null) {
            cfg = new IngestConfig(StoreConfig.lucene(store), cfg.alpaca(), cfg.chunking(), cfg.sink(), cfg.flink());
        }
        if (flinkMaster != null && !flinkMaster.matches("[^:\\s]+:\\d{1,5}")) {
            throw new UserError("--flink-master '" + flinkMaster + "': expected HOST:PORT of the cluster's REST endpoint, e.g. localhost:8081");
        }
        if (source != Ingest.Source.JSONL && path != null) throw new UserError("--path applies only to --source jsonl");
        if (source == Ingest.Source.JSONL && (from != null || to != null || !symbols.isEmpty())) {
            throw new UserError("--from, --to and --symbols apply only to the alpaca sources");
        }
        Clock clock = Clock.systemUTC();
        Instant fromTime = from == null ? null : TimeWindow.since("--from", from, clock);
        Instant toTime = to == null ? null : TimeWindow.since("--to", to, clock);
        List<String> tickers = symbols.stream().map(s -> s.strip().toUpperCase(Locale.ROOT)).filter(s -> !s.isEmpty()).toList();
        Ingest.Request request = new Ingest.Request(source, path, fromTime, toTime, tickers, stateDir, flinkMaster, quantized, fresh);

        // Ctrl-C: ask the job to stop with a savepoint and keep the JVM alive until it has.
        CompletableFuture<Void> stop = new CompletableFuture<>();
        Ingest.Summary summary;
        try (StopHook hook = StopHook.install("ingest-stop", () -> stop.complete(null), Duration.ofMinutes(2))) {
            summary = Ingest.run(request, cfg, Secrets.fromEnvironment(), stop);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "%s: %d articles (%d unchanged), %d chunks, %d dead letters%s%n",
                summary.savepoint().isPresent() ? "stopped" : "done", summary.articles(), summary.unchanged(), summary.chunks(),
                summary.deadLetters(), summary.deadLetters() > 0 ? " (see " + summary.deadLetterFile() + ")" : "");
        out.printf(Locale.ROOT, "metrics: %s%n", summary.metricsFile());
        summary.savepoint().ifPresent(s -> out.printf(Locale.ROOT, "savepoint: %s (run the same command to resume)%n", s));
        return 0;
    }
}
