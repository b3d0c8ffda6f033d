package dev.finadvisor.feature;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.config.ConfigException;
import dev.finadvisor.domain.config.ConfigLoader;
import dev.finadvisor.domain.config.Secrets;
import dev.finadvisor.feature.testing.Articles;
import dev.finadvisor.feature.testing.SharedMiniCluster;
import dev.finadvisor.retrieval.LuceneVectorStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ingest command's logic: configuration, checks, state folder, summary; one real run on a Flink MiniCluster. */
class IngestTest {
    @TempDir
    Path dir;

    IngestConfig config(String... overrides) {
        List<String> sets = new java.util.ArrayList<>(List.of("store.path=" + dir.resolve("store")));
        sets.addAll(List.of(overrides));
        return new ConfigLoader().load(IngestConfig.class, IngestConfig.DEFAULTS, null, sets).value();
    }

    static Ingest.Request request(Ingest.Source source, Path path, Instant from, Instant to, String master) {
        return new Ingest.Request(source, path, from, to, List.of(), null, master, false, false);
    }

    @Test
    void aJsonlRunFillsTheStoreKeepsDeadLettersAndMetricsBesideItAndLeavesNoCheckpoints() throws Exception {
        Path file = dir.resolve("news.jsonl");
        // a UTF-8 byte order mark before the first article (not a bad record), a line that is not JSON, a line that is
        // not UTF-8 (a bad record with its line number, not the end of the job), and a good article after it
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        bytes.write(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF});
        bytes.write((Articles.onTopic(1, 0, Instant.parse("2024-05-01T12:00:00Z")) + "\nnot json\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        bytes.write(new byte[] {'{', '"', 'i', 'd', '"', ':', ' ', '9', ',', ' ', '"', 'x', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}', '\n'});
        bytes.write((Articles.onTopic(2, 1, Instant.parse("2024-05-02T12:00:00Z")) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Files.write(file, bytes.toByteArray());
        try (SharedMiniCluster flink = new SharedMiniCluster()) {
            Ingest.Summary s = Ingest.run(request(Ingest.Source.JSONL, file, null, null, flink.master()), config(),
                    new Secrets(Map.of()), new CompletableFuture<>());
            assertThat(s.articles()).isEqualTo(2);
            assertThat(s.deadLetters()).isEqualTo(2);
            assertThat(s.savepoint()).isEmpty();
            Path state = dir.resolve("store.ingest");
            assertThat(s.deadLetterFile()).isEqualTo(state.resolve("dead-letters.jsonl"));
            assertThat(Files.readString(s.deadLetterFile())).contains("news.jsonl line 2").contains("not valid JSON")
                    .contains("news.jsonl line 3").contains("not UTF-8");
            assertThat(s.metricsFile()).exists();
            assertThat(IngestJob.latestCheckpoint(state.resolve("checkpoints"))).isEmpty();
        }
        try (LuceneVectorStore store = LuceneVectorStore.openReadOnly(dir.resolve("store"))) {
            assertThat(store.articleUpdatedAt(1)).contains(Instant.parse("2024-05-01T12:00:00Z"));
            assertThat(store.articleUpdatedAt(2)).isPresent();
        }
    }

    @Test
    void badRequestsAreUserErrorsThatSayWhatToFix() {
        Secrets none = new Secrets(Map.of());
        Instant t = Instant.parse("2024-05-01T00:00:00Z");
        assertThatThrownBy(() -> Ingest.run(request(Ingest.Source.JSONL, dir.resolve("missing.jsonl"), null, null, null), config(), none, null))
                .isInstanceOf(UserError.class).hasMessageContaining("missing.jsonl: no such file");
        assertThatThrownBy(() -> Ingest.run(request(Ingest.Source.JSONL, null, null, null, null), config(), none, null))
                .hasMessageContaining("needs --path FILE");
        assertThatThrownBy(() -> Ingest.run(request(Ingest.Source.ALPACA_BACKFILL, null, null, null, null), config(), none, null))
                .hasMessageContaining("needs --from DATE");
        assertThatThrownBy(() -> Ingest.run(request(Ingest.Source.ALPACA_BACKFILL, null, t, t.minusSeconds(1), null), config(), none, null))
                .hasMessageContaining("is not before --to");
        assertThatThrownBy(() -> Ingest.run(request(Ingest.Source.ALPACA_STREAM, null, null, t, null), config(), none, null))
                .hasMessageContaining("--to does not apply");
        assertThatThrownBy(() -> Ingest.run(request(Ingest.Source.ALPACA_STREAM, null, null, null, null), config(), none, null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("ALPACA_API_KEY is not set");
    }

    @Test
    void configurationIsCheckedKeyByKey() {
        assertThatThrownBy(() -> config("alpaca.page_limit=500", "alpaca.stream_url=http://x"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("alpaca.page_limit").hasMessageContaining("alpaca.stream_url");
        assertThat(config().sink().batchChunks()).isEqualTo(32);
        assertThat(config().alpaca().settings().streamUrl().toString()).isEqualTo("wss://stream.data.alpaca.markets/v1beta1/news");
    }

    @Test
    void theSameCommandKeepsItsCheckpointsAndADifferentOneGetsItsOwn() {
        Path a = dir.resolve("a.jsonl");
        String k1 = Ingest.jobKey(request(Ingest.Source.JSONL, a, null, null, null));
        assertThat(Ingest.jobKey(request(Ingest.Source.JSONL, a, null, null, null))).isEqualTo(k1).startsWith("jsonl-");
        assertThat(Ingest.jobKey(request(Ingest.Source.JSONL, dir.resolve("b.jsonl"), null, null, null))).isNotEqualTo(k1);
    }

    /** A stream run in-process until stopped with a savepoint, at this parallelism, publishing {@code ids}; the summary. */
    private Ingest.Summary streamUntilStopped(dev.finadvisor.feature.testing.FakeAlpaca alpaca, int parallelism, int... ids) throws Exception {
        IngestConfig config = config("alpaca.rest_url=" + alpaca.settings().restUrl(), "alpaca.stream_url=" + alpaca.settings().streamUrl(),
                "alpaca.backoff_initial_ms=50", "alpaca.backoff_max_ms=400", "flink.checkpoint_interval_ms=500",
                "flink.parallelism=" + parallelism);
        Secrets keys = new Secrets(Map.of(Secrets.ALPACA_API_KEY, dev.finadvisor.feature.testing.FakeAlpaca.KEY,
                Secrets.ALPACA_API_SECRET, dev.finadvisor.feature.testing.FakeAlpaca.SECRET));
        CompletableFuture<Void> stop = new CompletableFuture<>();
        var runner = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            var run = runner.submit(() -> Ingest.run(request(Ingest.Source.ALPACA_STREAM, null, null, null, null), config, keys, stop));
            dev.finadvisor.feature.testing.FakeAlpaca.await(java.time.Duration.ofSeconds(90), () -> run.isDone() || alpaca.subscribed(), "the job");
            if (run.isDone()) {
                try {
                    run.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof Exception cause) throw cause;
                    throw e;
                }
            }
            for (int id : ids) alpaca.publish(Articles.onTopic(id, id, Instant.parse("2024-05-01T12:00:00Z").plusSeconds(id)), 1);
            dev.finadvisor.feature.testing.FakeAlpaca.await(java.time.Duration.ofSeconds(90), () -> stored() >= ids[ids.length - 1], "the articles");
            stop.complete(null);
            return run.get(3, java.util.concurrent.TimeUnit.MINUTES);
        } finally {
            runner.shutdownNow();
        }
    }

    private int stored() {
        if (!Files.isDirectory(dir.resolve("store"))) return 0;
        try (LuceneVectorStore store = LuceneVectorStore.openReadOnly(dir.resolve("store"))) {
            return (int) store.count();
        }
    }

    @Test
    void aStreamResumesItsCursorAcrossAChangeOfParallelism() throws Exception {
        try (var alpaca = new dev.finadvisor.feature.testing.FakeAlpaca()) {
            assertThat(streamUntilStopped(alpaca, 1, 1, 2).savepoint()).isPresent();
            // Published while no job runs: the next run backfills them from its cursor, whatever its parallelism.
            alpaca.addToHistory(Articles.onTopic(3, 3, Instant.parse("2024-05-01T12:00:03Z")));
            assertThat(streamUntilStopped(alpaca, 2, 4).savepoint()).isPresent();
            alpaca.addToHistory(Articles.onTopic(5, 5, Instant.parse("2024-05-01T12:00:05Z")));
            // Back to one subtask: the parallel run's savepoint holds its embedding subtasks' state (articles waiting for
            // the model), which one subtask has nowhere to put: refused, naming what to do, rather than dropped.
            assertThatThrownBy(() -> streamUntilStopped(alpaca, 1, 6)).isInstanceOf(UserError.class)
                    .hasMessageContaining("resume with --parallelism 2 or more");
            assertThat(streamUntilStopped(alpaca, 3, 6).savepoint()).isPresent();
            assertThat(stored()).isEqualTo(6);
        }
    }
}
