package dev.finadvisor.feature;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.config.Secrets;
import dev.finadvisor.feature.sink.ConfiguredStore;
import dev.finadvisor.feature.sink.EmbedderOpener;
import dev.finadvisor.feature.sink.IngestMetrics;
import dev.finadvisor.feature.sink.IngestSink;
import dev.finadvisor.feature.sink.SinkSettings;
import dev.finadvisor.feature.source.AlpacaCredentials;
import dev.finadvisor.feature.source.BackfillSplit;
import dev.finadvisor.feature.source.NewsSource;
import dev.finadvisor.feature.source.StreamSplit;
import dev.finadvisor.retrieval.MiniLmEmbedder;
import dev.finadvisor.retrieval.StoreConfig;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code finadvisor ingest} does: checks the request, builds the source and the sink, runs the
 * Flink job in-process or on a cluster, resumes from the newest checkpoint or savepoint of the same
 * request, and stops with a savepoint when asked. Its state (checkpoints, dead letters, metrics)
 * lives in one folder beside the store.
 */
public final class Ingest {
    private static final Logger log = LoggerFactory.getLogger(Ingest.class);

    /** Where the news comes from. */
    public enum Source { JSONL, ALPACA_BACKFILL, ALPACA_STREAM }

    /**
     * One ingest run. {@code path} for JSONL; {@code from}/{@code to} for a backfill (to null: now);
     * {@code from} for a stream means "backfill since then first" (may be null); {@code symbols}
     * empty means all; {@code stateDir} null means next to the store; {@code flinkMaster} null means in-process.
     */
    public record Request(Source source, Path path, Instant from, Instant to, List<String> symbols, Path stateDir,
                          String flinkMaster, boolean quantized, boolean fresh) {
        public Request {
            symbols = symbols == null ? List.of() : List.copyOf(symbols);
        }
    }

    /** What a finished (or stopped) run did, read back from its metrics file. */
    public record Summary(long articles, long unchanged, long chunks, long deadLetters, Path deadLetterFile, Path metricsFile,
                          Optional<String> savepoint) {}

    private Ingest() {}

    public static Summary run(Request request, IngestConfig config, Secrets secrets, CompletableFuture<?> stop) throws Exception {
        Path stateDir = request.stateDir() != null ? request.stateDir().toAbsolutePath() : config.store().ingestStateDir();
        NewsSource source = source(request, config, secrets);
        Path deadLetters = stateDir.resolve("dead-letters.jsonl");
        Path metrics = stateDir.resolve("metrics.json");
        Path checkpoints = stateDir.resolve("checkpoints").resolve(jobKey(request));
        IngestJob.Runtime runtime = new IngestJob.Runtime(request.flinkMaster(),
                request.flinkMaster() == null ? List.of() : jobJars(), checkpoints, Duration.ofMillis(config.flink().checkpointIntervalMs()),
                config.flink().parallelism());
        // One name per request, store, model and chunking: on a cluster, a job still running under it is followed, not
        // started twice; nothing of it (its metrics, its checkpoints) may be touched before that is known.
        String name = "finadvisor ingest " + jobKey(request) + " into " + stateDir + " " + settingsKey(request, config);
        Optional<String> running = IngestJob.runningJob(runtime, name);
        if (running.isPresent() && request.fresh()) {
            throw new UserError("--fresh: this command's job " + running.get() + " is still running on the cluster at " + request.flinkMaster()
                    + "; stop it first (Ctrl-C its ingest, or cancel it in Flink) or run without --fresh to follow it");
        }
        Files.createDirectories(stateDir);
        if (running.isEmpty()) IngestMetrics.delete(metrics); // this run's figures only
        if (request.fresh()) IngestJob.deleteRecursively(checkpoints);
        MiniLmEmbedder.Variant variant = request.quantized() ? MiniLmEmbedder.Variant.QUANTIZED : MiniLmEmbedder.Variant.FULL;
        EmbedderOpener embedder = threads -> MiniLmEmbedder.load(variant, MiniLmEmbedder.OverLength.REJECT, threads);
        IngestSink sink = new IngestSink(ConfiguredStore.of(config.store(), MiniLmEmbedder.DIMENSION), embedder,
                new SinkSettings(config.chunking().maxTokens(), config.chunking().overlapTokens(), config.sink().batchChunks(),
                        config.sink().batchWaitMs(), config.sink().commitIntervalMs(),
                        deadLetters.toString(), metrics.toString(), config.sink().metricsLogIntervalSeconds() * 1000));
        Optional<Path> restore = IngestJob.latestCheckpoint(checkpoints);
        restore.ifPresent(p -> log.info("resuming from {} (give --fresh to start over)", p));
        var env = IngestJob.environment(runtime, restore);
        IngestJob.define(env, source, sink, runtime.parallelism());
        Optional<String> savepoint;
        try {
            savepoint = IngestJob.runUntil(env, runtime, name, stop);
        } catch (Exception e) {
            if (restore.isPresent() && IngestJob.stateDoesNotMap(e)) {
                throw new UserError(restore.get() + " holds articles waiting to be embedded by a run with --parallelism above 1,"
                        + " which a run with --parallelism 1 has nowhere to put: resume with --parallelism 2 or more (then change it),"
                        + " or start over with --fresh", e);
            }
            throw e;
        }
        if (savepoint.isEmpty() && request.source() != Source.ALPACA_STREAM) {
            IngestJob.deleteRecursively(checkpoints); // done: nothing to resume
        }
        return summary(metrics, deadLetters, savepoint);
    }

    /** What else makes two runs of a request different jobs: where they write, with which model, in what chunks. */
    static String settingsKey(Request r, IngestConfig config) {
        var st = config.store();
        String what = st.type() + " " + st.path() + " " + st.url() + " " + st.collection() + " " + r.quantized() + " "
                + config.chunking().maxTokens() + " " + config.chunking().overlapTokens();
        return shortHash(what, 4);
    }

    private static NewsSource source(Request r, IngestConfig config, Secrets secrets) {
        switch (r.source()) {
            case JSONL -> {
                if (r.path() == null) throw new UserError("--source jsonl needs --path FILE (a JSON Lines file of Alpaca news objects)");
                if (!Files.isRegularFile(r.path())) throw new UserError("--path " + r.path() + ": no such file");
                if (!Files.isReadable(r.path())) throw new UserError("--path " + r.path() + ": not readable");
                return NewsSource.replay(r.path().toAbsolutePath().toString());
            }
            case ALPACA_BACKFILL -> {
                if (r.from() == null) throw new UserError("--source alpaca-backfill needs --from DATE (and --to DATE, default now)");
                Instant to = r.to() == null ? Instant.now() : r.to();
                if (!r.from().isBefore(to)) throw new UserError("--from " + r.from() + " is not before --to " + to);
                return NewsSource.backfill(new BackfillSplit(r.from(), to, r.symbols(), null, 0), config.alpaca().settings(), credentials(secrets));
            }
            case ALPACA_STREAM -> {
                if (r.to() != null) throw new UserError("--to does not apply to --source alpaca-stream (it runs until stopped)");
                return NewsSource.stream(new StreamSplit(r.symbols(), r.from(), List.of()), config.alpaca().settings(), credentials(secrets));
            }
            default -> throw new IllegalArgumentException("unknown source " + r.source());
        }
    }

    private static AlpacaCredentials credentials(Secrets secrets) {
        String purpose = "to read Alpaca news";
        return new AlpacaCredentials(secrets.require(Secrets.ALPACA_API_KEY, purpose).reveal(),
                secrets.require(Secrets.ALPACA_API_SECRET, purpose).reveal());
    }

    /** Names a request's checkpoints: the same command resumes, a different one starts its own. */
    static String jobKey(Request r) {
        String what = switch (r.source()) {
            case JSONL -> r.path().toAbsolutePath().normalize().toString();
            case ALPACA_BACKFILL -> r.from() + ".." + r.to() + " " + r.symbols();
            case ALPACA_STREAM -> r.symbols().toString();
        };
        return r.source().name().toLowerCase(Locale.ROOT).replace('_', '-') + "-" + shortHash(what, 6);
    }

    /** The first {@code bytes} bytes of {@code what}'s SHA-256, in hex. */
    private static String shortHash(String what, int bytes) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(what.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The jars a cluster needs for this job: every jar beside this module's jar (the launcher's
     * {@code lib/}) except Flink's own (the cluster has them) and the PyTorch engine (unused here).
     */
    static List<String> jobJars() {
        Path self;
        try {
            self = Path.of(Ingest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("cannot locate the feature-pipeline jar to ship to the cluster", e);
        }
        if (!Files.isRegularFile(self)) {
            // Run from class folders (tests, an IDE): only a cluster in this JVM, or one that has our jars, can run the job.
            log.warn("not running from packaged jars ({}): shipping no jars to the Flink cluster; use ./finadvisor for a real cluster", self);
            return List.of();
        }
        List<String> jars = new ArrayList<>();
        try (Stream<Path> files = Files.list(self.getParent())) {
            for (Path p : files.sorted().toList()) {
                String n = p.getFileName().toString();
                if (n.endsWith(".jar") && !n.startsWith("flink-") && !n.startsWith("pytorch-")) jars.add(p.toString());
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + self.getParent(), e);
        }
        log.debug("shipping {} jars to the cluster (classpath {})", jars.size(), String.join(File.pathSeparator, jars));
        return jars;
    }

    private static Summary summary(Path metrics, Path deadLetters, Optional<String> savepoint) throws IOException {
        if (!Files.exists(metrics)) return new Summary(0, 0, 0, 0, deadLetters, metrics, savepoint);
        JsonNode m = new ObjectMapper().readTree(metrics.toFile());
        return new Summary(m.path("articles").asLong(), m.path("articles_unchanged").asLong(), m.path("chunks").asLong(),
                m.path("dead_letters").asLong(), deadLetters, metrics, savepoint);
    }
}
