package dev.finadvisor.feature.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.config.ConfigLoader;
import dev.finadvisor.domain.config.Secrets;
import dev.finadvisor.feature.Ingest;
import dev.finadvisor.feature.IngestConfig;
import dev.finadvisor.feature.process.Chunker;
import dev.finadvisor.feature.process.HtmlCleaner;
import dev.finadvisor.feature.testing.FakeAlpaca;
import dev.finadvisor.feature.testing.LocalFlinkCluster;
import dev.finadvisor.retrieval.MiniLmEmbedder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * bench/flink-cluster: the same synthetic articles through the ingest job in-process and on a session cluster in JVMs of
 * its own (1 JobManager, 2 TaskManagers of one slot each), at parallelism 1 and 2, in one run; chunks/s (the sink's rate
 * from its first article, and the wall time with submission and model loading), the cluster's overhead over in-process,
 * chunks/s per core, and the ratio to the ceiling measured first in the same process (the model alone on every core); then
 * freshness with the stream source at 1 article/s, in-process and on the cluster.
 * Usage: FlinkClusterBench [articles=1000] [streamSeconds=60] [words=400]
 */
public final class FlinkClusterBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Result(String what, int parallelism, long chunks, double sinkChunksPerS, double wallS) {}

    public static void main(String[] args) throws Exception {
        int articles = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int streamSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 60;
        int words = args.length > 2 ? Integer.parseInt(args[2]) : 400;
        int cores = Runtime.getRuntime().availableProcessors();
        Path work = Files.createTempDirectory("bench-flink-cluster");
        System.out.printf(Locale.ROOT, "machine: %d cores, load average at start %s%n", cores, loadAverage());
        Random rnd = new Random(42);
        List<String> lines = new ArrayList<>();
        Instant t0 = Instant.parse("2024-05-01T12:00:00Z");
        for (int i = 0; i < articles; i++) lines.add(FeaturePipelineBench.synthetic(i + 1, t0.plusSeconds(i), rnd, words).toString());
        Path file = Files.write(work.resolve("news.jsonl"), lines);
        double[] ceiling = modelAlone(lines, cores);

        try (LocalFlinkCluster cluster = LocalFlinkCluster.start(work.resolve("flink"), 2, 1, System.getProperty("java.class.path"))) {
            System.out.printf(Locale.ROOT, "cluster: REST at %s, 2 TaskManagers of 1 slot (logs in %s)%n", cluster.master(), work.resolve("flink/log"));
            List<Result> results = new ArrayList<>();
            // A-B order within each parallelism, so a drift of the machine's load shows as a difference between repeats.
            for (int p : new int[] {1, 2}) {
                results.add(batch(work, file, "in-process", null, p));
                results.add(batch(work, file, "cluster", cluster.master(), p));
            }
            System.out.println();
            // Every run keeps every core busy: one model spreads its calls over all of them, N models take a share each.
            System.out.println("| run | parallelism | chunks | sink chunks/s | wall s | chunks/s per core | / model alone on every core |");
            System.out.println("| --- | --- | --- | --- | --- | --- | --- |");
            for (Result r : results) {
                System.out.printf(Locale.ROOT, "| %s | %d | %d | %.2f | %.1f | %.2f | %.3f |%n", r.what(), r.parallelism(), r.chunks(), r.sinkChunksPerS(),
                        r.wallS(), r.sinkChunksPerS() / cores, r.sinkChunksPerS() / ceiling[1]);
            }
            for (int i = 0; i < results.size(); i += 2) {
                Result local = results.get(i), remote = results.get(i + 1);
                System.out.printf(Locale.ROOT, "parallelism %d: cluster / in-process sink chunks/s = %.3f (overhead %.1f%%), wall %.3f%n",
                        local.parallelism(), remote.sinkChunksPerS() / local.sinkChunksPerS(),
                        100 * (1 - remote.sinkChunksPerS() / local.sinkChunksPerS()), local.wallS() / remote.wallS());
            }
            System.out.printf(Locale.ROOT, "parallelism 2 / 1: in-process %.3f, cluster %.3f (%d cores: 2 subtasks share them with the source, the"
                            + " writer and the other JVMs)%n", results.get(2).sinkChunksPerS() / results.get(0).sinkChunksPerS(),
                    results.get(3).sinkChunksPerS() / results.get(1).sinkChunksPerS(), cores);
            if (streamSeconds > 0) {
                stream(work, "in-process", null, streamSeconds, words);
                stream(work, "cluster", cluster.master(), streamSeconds, words);
            }
        }
        System.out.printf(Locale.ROOT, "load average at end %s%n", loadAverage());
    }

    /**
     * The ceiling: MiniLM alone on the first chunks of these articles, in batches of 32, on one thread and on every core;
     * returns {one thread, every core} in chunks/s.
     */
    private static double[] modelAlone(List<String> lines, int cores) throws Exception {
        List<String> chunks = new ArrayList<>();
        try (MiniLmEmbedder probe = MiniLmEmbedder.load()) {
            Chunker chunker = new Chunker(probe, probe.maxTokens(), 32);
            for (String line : lines.subList(0, Math.min(100, lines.size()))) {
                JsonNode a = JSON.readTree(line);
                chunks.addAll(chunker.chunk(Chunker.articleText(a.get("headline").asText(), a.get("summary").asText(),
                        HtmlCleaner.clean(a.get("content").asText()))));
            }
        }
        double[] out = new double[2];
        int[] threads = {1, cores};
        for (int i = 0; i < 2; i++) {
            try (MiniLmEmbedder model = MiniLmEmbedder.load(MiniLmEmbedder.Variant.FULL, MiniLmEmbedder.OverLength.REJECT, threads[i])) {
                model.embedAll(chunks.subList(0, Math.min(32, chunks.size()))); // warm-up
                long start = System.nanoTime();
                for (int at = 0; at < chunks.size(); at += 32) model.embedAll(chunks.subList(at, Math.min(chunks.size(), at + 32)));
                out[i] = chunks.size() / ((System.nanoTime() - start) / 1e9);
            }
        }
        System.out.printf(Locale.ROOT, "model alone (MiniLM, %d chunks in batches of 32): %.2f chunks/s on one thread, %.2f on %d threads (%.2fx)%n",
                chunks.size(), out[0], out[1], cores, out[1] / out[0]);
        return out;
    }

    private static IngestConfig config(Path store, String... sets) {
        List<String> all = new ArrayList<>(List.of("store.path=" + store, "sink.metrics_log_interval_s=1"));
        all.addAll(List.of(sets));
        return new ConfigLoader().load(IngestConfig.class, IngestConfig.DEFAULTS, null, all).value();
    }

    private static Result batch(Path work, Path file, String what, String master, int parallelism) throws Exception {
        Path store = work.resolve(what + "-p" + parallelism);
        long start = System.nanoTime();
        Ingest.Summary s = Ingest.run(new Ingest.Request(Ingest.Source.JSONL, file, null, null, List.of(), null, master, false, false),
                config(store, "flink.parallelism=" + parallelism), new Secrets(Map.of()), null);
        double wall = (System.nanoTime() - start) / 1e9;
        JsonNode m = JSON.readTree(s.metricsFile().toFile());
        Result r = new Result(what, parallelism, s.chunks(), m.get("chunks_per_s").asDouble(), wall);
        System.out.printf(Locale.ROOT, "%s, parallelism %d: %d articles, %d chunks, %.2f chunks/s from the first article, wall %.1f s (load %s)%n",
                what, parallelism, s.articles(), r.chunks(), r.sinkChunksPerS(), wall, loadAverage());
        return r;
    }

    private static void stream(Path work, String what, String master, int seconds, int words) throws Exception {
        Path store = work.resolve("stream-" + what);
        Random rnd = new Random(7);
        ExecutorService runner = Executors.newSingleThreadExecutor();
        try (FakeAlpaca alpaca = new FakeAlpaca()) {
            IngestConfig config = config(store, "alpaca.rest_url=" + alpaca.settings().restUrl(), "alpaca.stream_url=" + alpaca.settings().streamUrl());
            Secrets keys = new Secrets(Map.of(Secrets.ALPACA_API_KEY, FakeAlpaca.KEY, Secrets.ALPACA_API_SECRET, FakeAlpaca.SECRET));
            CompletableFuture<Void> stop = new CompletableFuture<>();
            Future<Ingest.Summary> run = runner.submit(() -> Ingest.run(new Ingest.Request(Ingest.Source.ALPACA_STREAM, null, null, null, List.of(),
                    null, master, false, false), config, keys, stop));
            alpaca.awaitSubscribed(Duration.ofMinutes(3));
            FeaturePipelineBench.publishOnePerSecond(alpaca, seconds, words, rnd);
            Path metrics = config.store().ingestStateDir().resolve("metrics.json");
            FeaturePipelineBench.awaitSearchable(metrics, seconds);
            stop.complete(null);
            run.get(3, TimeUnit.MINUTES);
            JsonNode f = JSON.readTree(metrics.toFile()).get("freshness_ms");
            System.out.printf(Locale.ROOT, "%s stream at 1 article/s for %d s: freshness (received -> committed) p50 %d ms, p99 %d ms, max %d ms over %d articles%n",
                    what, seconds, f.get("p50").asLong(), f.get("p99").asLong(), f.get("max").asLong(), f.get("samples").asInt());
        } finally {
            runner.shutdownNow();
        }
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (Exception e) {
            return "unknown";
        }
    }
}
