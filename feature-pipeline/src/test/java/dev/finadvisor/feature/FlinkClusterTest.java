package dev.finadvisor.feature;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finadvisor.domain.config.ConfigLoader;
import dev.finadvisor.domain.config.Secrets;
import dev.finadvisor.feature.testing.Articles;
import dev.finadvisor.feature.testing.FakeAlpaca;
import dev.finadvisor.feature.testing.LocalFlinkCluster;
import dev.finadvisor.feature.testing.SharedEmbedder;
import dev.finadvisor.retrieval.Hit;
import dev.finadvisor.retrieval.LuceneVectorStore;
import dev.finadvisor.retrieval.SearchFilter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ingest job on a real Flink session cluster: a JobManager and two TaskManagers in JVMs of their own, started from
 * Flink's entrypoints, submitted to as {@code ingest --flink-master} does; and a TaskManager killed with SIGKILL mid-job.
 */
class FlinkClusterTest {
    static final Instant T0 = Instant.parse("2024-05-01T12:00:00Z");
    static final Duration WAIT = Duration.ofSeconds(90);
    @TempDir static Path shared;
    static LocalFlinkCluster cluster;

    @TempDir Path dir;

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalFlinkCluster.start(shared.resolve("flink"), 2, 2, System.getProperty("java.class.path"));
    }

    @AfterAll
    static void stop() {
        if (cluster != null) cluster.close();
    }

    IngestConfig config(Path store, String... overrides) {
        List<String> sets = new ArrayList<>(List.of("store.path=" + store, "flink.checkpoint_interval_ms=500", "sink.metrics_log_interval_s=1"));
        sets.addAll(List.of(overrides));
        return new ConfigLoader().load(IngestConfig.class, IngestConfig.DEFAULTS, null, sets).value();
    }

    static Ingest.Request request(Ingest.Source source, Path path, String master) {
        return new Ingest.Request(source, path, null, null, List.of(), null, master, false, false);
    }

    /** Every article in a store with its number of chunks (a read-only reader; the store is small, so HNSW returns all). */
    static Map<Long, Integer> chunksPerArticle(Path store) throws Exception {
        Map<Long, Integer> out = new TreeMap<>();
        if (!Files.isDirectory(store)) return out;
        try (LuceneVectorStore lucene = LuceneVectorStore.openReadOnly(store)) {
            for (Hit h : lucene.search(SharedEmbedder.open().embed("news"), 1000, SearchFilter.NONE)) out.merge(h.payload().articleId(), 1, Integer::sum);
        }
        return out;
    }

    @Test
    void aJsonlRunOnTheClusterFillsTheStoreAsTheInProcessRunDoes() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 1; i <= 30; i++) lines.add(Articles.onTopic(i, i, T0.plusSeconds(i)).toString());
        Path file = Files.write(dir.resolve("news.jsonl"), lines);
        Secrets none = new Secrets(Map.of());
        Ingest.Summary onCluster = Ingest.run(request(Ingest.Source.JSONL, file, cluster.master()), config(dir.resolve("cluster")), none, null);
        Ingest.Summary inProcess = Ingest.run(request(Ingest.Source.JSONL, file, null), config(dir.resolve("local")), none, null);
        assertThat(onCluster.articles()).isEqualTo(30);
        assertThat(onCluster.chunks()).isEqualTo(inProcess.chunks());
        Map<Long, Integer> expected = chunksPerArticle(dir.resolve("local"));
        assertThat(expected).hasSize(30);
        assertThat(chunksPerArticle(dir.resolve("cluster"))).isEqualTo(expected);
        assertThat(cluster.jobs()).anySatisfy(j -> assertThat(j.get("state").asText()).isEqualTo("FINISHED"));
    }

    @Test
    void aKilledTaskManagerLosesNothingAndDuplicatesNothing() throws Exception {
        ExecutorService runner = Executors.newSingleThreadExecutor();
        try (FakeAlpaca alpaca = new FakeAlpaca()) {
            Path store = dir.resolve("store");
            IngestConfig config = config(store, "alpaca.rest_url=" + alpaca.settings().restUrl(), "alpaca.stream_url=" + alpaca.settings().streamUrl(),
                    "alpaca.backoff_initial_ms=50", "alpaca.backoff_max_ms=400");
            Secrets keys = new Secrets(Map.of(Secrets.ALPACA_API_KEY, FakeAlpaca.KEY, Secrets.ALPACA_API_SECRET, FakeAlpaca.SECRET));
            CompletableFuture<Void> stop = new CompletableFuture<>();
            Future<Ingest.Summary> run = runner.submit(() -> Ingest.run(request(Ingest.Source.ALPACA_STREAM, null, cluster.master()), config, keys, stop));
            alpaca.awaitSubscribed(WAIT);
            for (int i = 1; i <= 10; i++) alpaca.publish(Articles.onTopic(i, i, T0.plusSeconds(i)), 2);
            FakeAlpaca.await(WAIT, () -> count(store) == 10, "ten articles in the store");
            Thread.sleep(1500); // a checkpoint covers them

            String busy = cluster.busyTaskManager();
            assertThat(busy).as("the TaskManager running the job").isNotNull();
            cluster.killTaskManager(busy);
            // Published while the job is down: the restarted job's stream backfills them from its checkpointed cursor.
            for (int i = 11; i <= 15; i++) alpaca.publish(Articles.onTopic(i, i, T0.plusSeconds(i)), 1);
            FakeAlpaca.await(WAIT, () -> alpaca.connections.get() >= 2, "the restarted job to reconnect");
            alpaca.awaitSubscribed(WAIT);
            for (int i = 16; i <= 20; i++) alpaca.publish(Articles.onTopic(i, i, T0.plusSeconds(i)), 1);
            FakeAlpaca.await(WAIT, () -> count(store) == 20, "all twenty articles after the restart");
            assertThat(cluster.busyTaskManager()).as("the job runs on the TaskManager left").isNotEqualTo(busy).isNotNull();
            stop.complete(null);
            Ingest.Summary summary = run.get(3, TimeUnit.MINUTES);
            assertThat(summary.savepoint()).isPresent();

            Map<Long, Integer> chunks = chunksPerArticle(store);
            assertThat(chunks.keySet()).containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, 20).boxed().toList());
            assertThat(chunks.values()).as("one chunk each, as an uninterrupted run writes them").containsOnly(1);
        } finally {
            runner.shutdownNow();
        }
    }

    private static int count(Path store) {
        try {
            return chunksPerArticle(store).size();
        } catch (Exception e) {
            return -1; // the store is being created
        }
    }
}
