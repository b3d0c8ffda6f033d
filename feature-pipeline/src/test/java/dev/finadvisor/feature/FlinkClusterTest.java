package dev.finadvisor.feature;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finadvisor.domain.config.ConfigLoader;
import dev.finadvisor.domain.config.Secrets;
import dev.finadvisor.feature.testing.Articles;
import dev.finadvisor.feature.testing.FakeAlpaca;
import dev.finadvisor.feature.testing.IngestClient;
import dev.finadvisor.feature.testing.LocalFlinkCluster;
import dev.finadvisor.feature.testing.SharedEmbedder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.retrieval.FakeQdrant;
import dev.finadvisor.retrieval.Hit;
import dev.finadvisor.retrieval.LuceneVectorStore;
import dev.finadvisor.retrieval.MiniLmEmbedder;
import dev.finadvisor.retrieval.QdrantVectorStore;
import dev.finadvisor.retrieval.SearchFilter;
import dev.finadvisor.retrieval.StoreConfig;
import dev.finadvisor.retrieval.VectorStore;
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
import org.junit.jupiter.api.AfterEach;
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
    static final ObjectMapper JSON = new ObjectMapper();
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

    /** Thirty articles, two of them in a second version further on (the newer must win), and a line that is no article. */
    Path news() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 1; i <= 30; i++) lines.add(Articles.onTopic(i, i, T0.plusSeconds(i)).toString());
        lines.add(10, Articles.updated(Articles.onTopic(3, 3, T0.plusSeconds(3)), T0.plusSeconds(600),
                "<p>Second version of three.</p><p>" + "More words about the revised outlook. ".repeat(80) + "</p>").toString());
        lines.add(20, "not json");
        lines.add(Articles.updated(Articles.onTopic(7, 7, T0.plusSeconds(7)), T0.plusSeconds(900), "<p>Second version of seven.</p>").toString());
        return Files.write(dir.resolve("news.jsonl"), lines);
    }

    /**
     * Every stored chunk by its id (article#chunk): its text, and its score for one query (the same vector gives the same
     * score), i.e. what an uninterrupted single-subtask run writes.
     */
    static Map<String, String> chunks(Path store) throws Exception {
        try (LuceneVectorStore lucene = LuceneVectorStore.openReadOnly(store)) {
            return chunks(lucene);
        }
    }

    static Map<String, String> chunks(VectorStore store) throws Exception {
        Map<String, String> out = new TreeMap<>();
        for (Hit h : store.search(SharedEmbedder.open().embed("news about the outlook"), 1000, SearchFilter.NONE)) {
            out.put(h.payload().articleId() + "#" + h.payload().chunkIndex(), h.payload().text() + String.format(java.util.Locale.ROOT, " | %.6f", h.score()));
        }
        return out;
    }

    @Test
    void theClusterAtParallelismTwoFillsTheStoreAsOneInProcessSubtaskDoes() throws Exception {
        Path file = news();
        Secrets none = new Secrets(Map.of());
        Ingest.Summary inProcess = Ingest.run(request(Ingest.Source.JSONL, file, null), config(dir.resolve("local")), none, null);
        Ingest.Summary parallel = Ingest.run(request(Ingest.Source.JSONL, file, null), config(dir.resolve("parallel"), "flink.parallelism=2"), none, null);
        Ingest.Summary onCluster = Ingest.run(request(Ingest.Source.JSONL, file, cluster.master()),
                config(dir.resolve("cluster"), "flink.parallelism=2"), none, null);
        assertThat(inProcess.articles()).isEqualTo(32);
        assertThat(inProcess.deadLetters()).isEqualTo(1);
        Map<String, String> expected = chunks(dir.resolve("local"));
        assertThat(expected.get("3#0")).contains("Second version of three.");
        assertThat(expected.keySet()).contains("3#1"); // the long second version is in more chunks than the first
        assertThat(expected.get("7#0")).contains("Second version of seven.");
        for (Ingest.Summary s : List.of(parallel, onCluster)) {
            assertThat(s.articles()).isEqualTo(inProcess.articles());
            assertThat(s.chunks()).isEqualTo(inProcess.chunks());
            assertThat(s.deadLetters()).isEqualTo(1);
        }
        assertThat(chunks(dir.resolve("parallel"))).isEqualTo(expected);
        assertThat(chunks(dir.resolve("cluster"))).isEqualTo(expected);
        assertThat(jobsInto(dir.resolve("cluster.ingest"))).singleElement().satisfies(j -> assertThat(j.get("state").asText()).isEqualTo("FINISHED"));
    }

    @Test
    void qdrantTakesAWriterPerSubtaskInEachTaskManagerAndGetsWhatOneSubtaskWrites() throws Exception {
        Path file = news();
        Secrets none = new Secrets(Map.of());
        try (FakeQdrant qdrant = FakeQdrant.onLoopback()) {
            Map<String, Ingest.Summary> runs = new TreeMap<>();
            for (String run : List.of("one", "two", "cluster")) {
                IngestConfig config = config(dir.resolve("unused"), "store.type=qdrant", "store.url=" + qdrant.url(), "store.collection=" + run,
                        "flink.parallelism=" + (run.equals("one") ? 1 : 2));
                runs.put(run, Ingest.run(new Ingest.Request(Ingest.Source.JSONL, file, null, null, List.of(), dir.resolve(run + ".ingest"),
                        run.equals("cluster") ? cluster.master() : null, false, false), config, none, null));
            }
            Map<String, String> expected = chunks(qdrant, "one");
            assertThat(expected.get("3#0")).contains("Second version of three.");
            assertThat(expected.get("7#0")).contains("Second version of seven.");
            for (String run : List.of("two", "cluster")) {
                Ingest.Summary s = runs.get(run);
                assertThat(s.articles()).as(run).isEqualTo(32);
                assertThat(s.chunks()).as(run).isEqualTo(runs.get("one").chunks());
                assertThat(qdrant.points(run)).as(run).isEqualTo(qdrant.points("one"));
                assertThat(chunks(qdrant, run)).as(run).isEqualTo(expected);
                // two writers, each with its share of the articles, summed into metrics.json; one shared dead-letter file
                JsonNode metrics = JSON.readTree(s.metricsFile().toFile());
                assertThat(metrics.path("writers").asInt()).as(run).isEqualTo(2);
                assertThat(metrics.path("running").asBoolean()).as(run).isFalse();
                assertThat(metrics.path("freshness_ms").path("samples").asInt()).as(run).isEqualTo(32); // each article once it was searchable
                JsonNode parts = JSON.readTree(s.metricsFile().resolveSibling("metrics.writers.json").toFile());
                assertThat(parts.size()).as(run).isEqualTo(2);
                for (JsonNode part : parts) assertThat(part.path("articles").asLong()).as(run + " writer").isPositive();
                assertThat(Files.readAllLines(s.deadLetterFile())).as(run).singleElement().asString().contains("not valid JSON");
            }
            assertThat(JSON.readTree(runs.get("one").metricsFile().toFile()).path("writers").asInt()).isEqualTo(1);
            assertThat(writerTaskManagers(dir.resolve("cluster.ingest"))).as("the TaskManagers the writers ran in").hasSize(2);
        }
    }

    /** A Qdrant collection's chunks, as {@link #chunks(Path)} reads a Lucene store's. */
    static Map<String, String> chunks(FakeQdrant qdrant, String collection) throws Exception {
        try (VectorStore store = QdrantVectorStore.connect(StoreConfig.qdrant(qdrant.url(), collection), MiniLmEmbedder.DIMENSION, null)) {
            return chunks(store);
        }
    }

    @Test
    void aKilledTaskManagerLosesNothingAndDuplicatesNothing() throws Exception {
        ExecutorService runner = Executors.newSingleThreadExecutor();
        try (FakeAlpaca alpaca = new FakeAlpaca()) {
            Path store = dir.resolve("store");
            // at parallelism 2: articles waiting in the embedding subtasks are part of the checkpoint the job restarts from
            IngestConfig config = config(store, "alpaca.rest_url=" + alpaca.settings().restUrl(), "alpaca.stream_url=" + alpaca.settings().streamUrl(),
                    "alpaca.backoff_initial_ms=50", "alpaca.backoff_max_ms=400", "flink.parallelism=2");
            Secrets keys = new Secrets(Map.of(Secrets.ALPACA_API_KEY, FakeAlpaca.KEY, Secrets.ALPACA_API_SECRET, FakeAlpaca.SECRET));
            CompletableFuture<Void> stop = new CompletableFuture<>();
            Future<Ingest.Summary> run = runner.submit(() -> Ingest.run(request(Ingest.Source.ALPACA_STREAM, null, cluster.master()), config, keys, stop));
            alpaca.awaitSubscribed(WAIT);
            for (int i = 1; i <= 10; i++) alpaca.publish(Articles.onTopic(i, i, T0.plusSeconds(i)), 2);
            FakeAlpaca.await(WAIT, () -> count(store) == 10, "ten articles in the store");
            String job = jobsInto(dir.resolve("store.ingest")).get(0).get("jid").asText();
            long completed = cluster.get("/jobs/" + job + "/checkpoints").path("counts").path("completed").asLong();
            cluster.awaitCheckpoint(job, completed, WAIT); // one taken after they were stored covers them

            String busy = cluster.busyTaskManager();
            assertThat(busy).as("the TaskManager running the job").isNotNull();
            cluster.killTaskManager(busy);
            // Published while the job is down: the restarted job's stream backfills them from its checkpointed cursor.
            for (int i = 11; i <= 15; i++) alpaca.addToHistory(Articles.onTopic(i, i, T0.plusSeconds(i))); // its stream is gone with it
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
            if (cluster.taskManagers().size() < 2) { // the next test has two again
                cluster.startTaskManager();
                cluster.awaitTaskManagers(2, WAIT);
            }
        }
    }

    @Test
    void aKilledClientLeavesItsJobRunningAndRunningTheCommandAgainFollowsThatJob() throws Exception {
        ExecutorService runner = Executors.newSingleThreadExecutor();
        Path store = dir.resolve("store");
        try (FakeAlpaca alpaca = new FakeAlpaca()) {
            Process client = IngestClient.start(dir.resolve("client.log"), cluster.master(), store, alpaca);
            try {
                alpaca.awaitSubscribed(WAIT);
                for (int i = 1; i <= 5; i++) alpaca.publish(Articles.onTopic(i, i, T0.plusSeconds(i)), 1);
                FakeAlpaca.await(WAIT, () -> count(store) == 5, "five articles through the first client's job");
            } finally {
                client.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
            String name = runningJob();
            assertThat(name).as("the job outlives its client").isNotNull();
            for (int i = 6; i <= 8; i++) alpaca.publish(Articles.onTopic(i, i, T0.plusSeconds(i)), 1);
            FakeAlpaca.await(WAIT, () -> count(store) == 8, "articles stored with no client");

            // The same command again: it follows the running job instead of starting a second one beside it.
            IngestConfig config = config(store, "alpaca.rest_url=" + alpaca.settings().restUrl(), "alpaca.stream_url=" + alpaca.settings().streamUrl(),
                    "alpaca.backoff_initial_ms=50", "alpaca.backoff_max_ms=400");
            Secrets keys = new Secrets(Map.of(Secrets.ALPACA_API_KEY, FakeAlpaca.KEY, Secrets.ALPACA_API_SECRET, FakeAlpaca.SECRET));
            CompletableFuture<Void> stop = new CompletableFuture<>();
            Future<Ingest.Summary> again = runner.submit(() -> Ingest.run(request(Ingest.Source.ALPACA_STREAM, null, cluster.master()), config, keys, stop));
            for (int i = 9; i <= 10; i++) alpaca.publish(Articles.onTopic(i, i, T0.plusSeconds(i)), 1);
            FakeAlpaca.await(WAIT, () -> count(store) == 10, "articles while the second client follows");
            stop.complete(null);
            assertThat(again.get(3, TimeUnit.MINUTES).savepoint()).as("stopped with a savepoint through the second client").isPresent();
            assertThat(runningJob()).isNull();
            assertThat(jobsInto(dir.resolve("store.ingest"))).as("one job for the command, never a second").hasSize(1);
            assertThat(alpaca.connections.get()).as("one job, one stream connection").isEqualTo(1);
            assertThat(chunksPerArticle(store).keySet()).containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, 10).boxed().toList());
        } finally {
            runner.shutdownNow();
        }
    }

    @AfterEach
    void noJobLeftRunning() throws Exception {
        cluster.cancelRunningJobs(); // a failed test's job would hold the next one's slots
    }

    /** The cluster's jobs writing into this state folder (their name says which). */
    private static List<com.fasterxml.jackson.databind.JsonNode> jobsInto(Path stateDir) throws Exception {
        List<com.fasterxml.jackson.databind.JsonNode> out = new ArrayList<>();
        for (var j : cluster.jobs()) if (j.get("name").asText().contains(" into " + stateDir + " ")) out.add(j);
        return out;
    }

    /** The TaskManagers that ran the subtasks of the (one) job into this state folder's store writer. */
    private static java.util.Set<String> writerTaskManagers(Path stateDir) throws Exception {
        String job = jobsInto(stateDir).get(0).get("jid").asText();
        java.util.Set<String> out = new java.util.TreeSet<>();
        for (JsonNode v : cluster.get("/jobs/" + job).path("vertices")) {
            if (!v.path("name").asText().contains("index")) continue;
            for (JsonNode tm : cluster.get("/jobs/" + job + "/vertices/" + v.path("id").asText() + "/taskmanagers").path("taskmanagers")) {
                out.add(tm.path("taskmanager-id").asText());
            }
        }
        return out;
    }

    /** The name of the ingest job running on the cluster, or null. */
    private static String runningJob() throws Exception {
        for (var j : cluster.jobs()) {
            if (j.get("state").asText().equals("RUNNING") && j.get("name").asText().startsWith("finadvisor ingest")) return j.get("name").asText();
        }
        return null;
    }

    private static int count(Path store) {
        try {
            return chunksPerArticle(store).size();
        } catch (Exception e) {
            return -1; // the store is being created
        }
    }
}
