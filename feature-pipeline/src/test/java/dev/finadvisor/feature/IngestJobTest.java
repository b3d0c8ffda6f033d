package dev.finadvisor.feature;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finadvisor.feature.process.Chunker;
import dev.finadvisor.feature.process.HtmlCleaner;
import dev.finadvisor.feature.sink.IngestSink;
import dev.finadvisor.feature.sink.SinkSettings;
import dev.finadvisor.feature.source.BackfillSplit;
import dev.finadvisor.feature.source.NewsSource;
import dev.finadvisor.feature.source.StreamSplit;
import dev.finadvisor.feature.testing.Articles;
import dev.finadvisor.feature.testing.FakeAlpaca;
import dev.finadvisor.feature.testing.CountingStore;
import dev.finadvisor.feature.testing.SharedEmbedder;
import dev.finadvisor.feature.testing.SharedMiniCluster;
import dev.finadvisor.retrieval.Hit;
import dev.finadvisor.retrieval.Embedder;
import dev.finadvisor.retrieval.LuceneVectorStore;
import dev.finadvisor.retrieval.SearchFilter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole job on a real Flink MiniCluster, with the real MiniLM model, a real Lucene index and loopback fakes of Alpaca. */
class IngestJobTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Instant T0 = Instant.parse("2024-05-01T12:00:00Z");
    static final Duration WAIT = Duration.ofSeconds(60);
    static SharedMiniCluster flink;
    static Embedder model;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        flink = new SharedMiniCluster();
        model = SharedEmbedder.open();
    }

    @AfterAll
    static void stop() throws Exception {
        flink.close();
    }

    IngestJob.Runtime runtime(String name) {
        return new IngestJob.Runtime(flink.master(), List.of(), dir.resolve("checkpoints-" + name), Duration.ofMillis(500));
    }

    Path store() {
        return dir.resolve("store");
    }

    IngestSink sink() {
        return sink(32);
    }

    IngestSink sink(int batchChunks) {
        String path = store().toString();
        return new IngestSink(() -> CountingStore.open(path), threads -> SharedEmbedder.open(),
                new SinkSettings(0, 32, batchChunks, 100, 100, dir.resolve("dead-letters.jsonl").toString(), dir.resolve("metrics.json").toString(), 500));
    }

    int writes() {
        return CountingStore.writesTo(store()).get();
    }

    /** Every chunk in the store (read-only, beside a running writer), best match for {@code query} first. */
    List<Hit> hits(String query) {
        if (!Files.isDirectory(store())) return List.of(); // the sink has not opened the store yet
        try (LuceneVectorStore lucene = LuceneVectorStore.openReadOnly(store())) {
            return lucene.search(model.embed(query), 100, SearchFilter.NONE);
        }
    }

    List<Long> articleIds() {
        return hits("news").stream().map(h -> h.payload().articleId()).distinct().sorted().toList();
    }

    void runToEnd(String name, NewsSource source, IngestSink sink) throws Exception {
        IngestJob.Runtime runtime = runtime(name);
        var env = IngestJob.environment(runtime, Optional.empty());
        IngestJob.define(env, source, sink);
        IngestJob.runToEnd(env, runtime, "test " + name);
    }

    Path jsonl(String name, List<String> lines) throws Exception {
        Path file = dir.resolve(name);
        Files.write(file, lines);
        return file;
    }

    static String longBody(int words) {
        StringBuilder sb = new StringBuilder("<p>");
        for (int i = 0; i < words; i++) sb.append(i % 40 == 39 ? "electric vehicles.</p><p>" : "regulators reviewed the driver assistance software on ");
        return sb.append("</p>").toString();
    }

    @Test
    void replayIndexesValidArticlesDeadLettersTheRestAndASearchForEachTopicFindsItFirst() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < Articles.TOPICS.size(); i++) lines.add(Articles.onTopic(i + 1, i, T0.plusSeconds(i)).toString());
        lines.add(3, "{\"id\": 99, \"headline\": ");                                        // line 4: broken JSON
        lines.add("{\"id\":98,\"created_at\":\"2024-05-01T12:00:00Z\",\"updated_at\":\"2024-05-01T12:00:00Z\"}"); // no headline
        lines.add("");                                                                       // blank: skipped
        lines.add("{\"id\":97,\"headline\":\"h\",\"created_at\":\"May 1st\",\"updated_at\":\"2024-05-01T12:00:00Z\"}");
        Path file = jsonl("news.jsonl", lines);

        runToEnd("replay", NewsSource.replay(file.toString()), sink());

        assertThat(articleIds()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
        for (Hit h : hits("news")) {
            assertThat(h.payload().text()).doesNotContain("Share on Twitter").doesNotContain("track()");
            assertThat(h.id()).isEqualTo(h.payload().articleId() + "#" + h.payload().chunkIndex());
        }
        for (int i = 0; i < Articles.TOPICS.size(); i++) {
            List<Hit> hits = hits(Articles.TOPICS.get(i)[2]);
            assertThat(hits.get(0).payload().articleId()).as("query '%s'", Articles.TOPICS.get(i)[2]).isEqualTo(i + 1L);
        }
        List<String> dead = Files.readAllLines(dir.resolve("dead-letters.jsonl"));
        assertThat(dead).hasSize(3);
        JsonNode first = JSON.readTree(dead.get(0));
        assertThat(first.get("origin").asText()).isEqualTo("news.jsonl line 4");
        assertThat(first.get("reason").asText()).startsWith("not valid JSON");
        assertThat(first.get("raw").asText()).isEqualTo("{\"id\": 99, \"headline\": ");
        assertThat(JSON.readTree(dead.get(1)).get("reason").asText()).isEqualTo("article 98: field 'headline': missing");
        assertThat(JSON.readTree(dead.get(2)).get("reason").asText()).contains("'May 1st' is not an RFC 3339 time");
        JsonNode metrics = JSON.readTree(dir.resolve("metrics.json").toFile());
        assertThat(metrics.get("running").asBoolean()).as("the last report of a job that ended").isFalse();
        assertThat(metrics.get("articles").asLong()).isEqualTo(8);
        assertThat(metrics.get("dead_letters").asLong()).isEqualTo(3);
        assertThat(metrics.get("chunks").asLong()).isEqualTo(hits("news").size());
        assertThat(metrics.get("freshness_ms").get("samples").asInt()).isEqualTo(8);

        // The same file again: nothing is embedded or written, no dead letter is repeated.
        int writes = writes();
        runToEnd("replay-again", NewsSource.replay(file.toString()), sink());
        assertThat(writes()).isEqualTo(writes);
        assertThat(Files.readAllLines(dir.resolve("dead-letters.jsonl"))).hasSize(3);
        assertThat(JSON.readTree(dir.resolve("metrics.json").toFile()).get("articles_unchanged").asLong()).isEqualTo(8);
    }

    @Test
    void aNewerVersionOfAnArticleReplacesAllItsChunksAndLeavesNoneStale() throws Exception {
        ObjectNode original = Articles.article(42, T0, "Regulator probes driver assistance", "A long investigation.", longBody(700), "TSLA");
        runToEnd("v1", NewsSource.replay(jsonl("v1.jsonl", List.of(original.toString())).toString()), sink());
        assertThat(hits("news")).hasSizeGreaterThanOrEqualTo(3);

        ObjectNode update = Articles.updated(original, T0.plusSeconds(3600), "<p>The probe was closed with no findings.</p>");
        ObjectNode stale = Articles.updated(original, T0.minusSeconds(60), "<p>An older draft.</p>");
        runToEnd("v2", NewsSource.replay(jsonl("v2.jsonl", List.of(update.toString(), stale.toString())).toString()), sink());

        List<Hit> after = hits("news");
        assertThat(after).hasSize(1);
        Hit only = after.get(0);
        assertThat(only.id()).isEqualTo("42#0");
        assertThat(only.payload().text()).contains("The probe was closed with no findings.").doesNotContain("draft");
        assertThat(only.payload().updatedAt()).isEqualTo(T0.plusSeconds(3600));
    }

    @Test
    void batchesEmbeddedAheadOfTheWritesLandInOrderAndANewerVersionStillReplacesTheOneBeingEmbedded() throws Exception {
        // One article per batch, so the embedder works a batch or two ahead of the writes; the second
        // version of article 42 arrives while its first is with the embedder, then an older draft.
        ObjectNode original = Articles.article(42, T0, "Regulator probes driver assistance", "A long investigation.", longBody(700), "TSLA");
        List<String> lines = new ArrayList<>();
        for (int i = 1; i <= 5; i++) lines.add(Articles.onTopic(i, i, T0.plusSeconds(i)).toString());
        lines.add(original.toString());
        lines.add(Articles.updated(original, T0.plusSeconds(3600), "<p>The probe was closed with no findings.</p>").toString());
        for (int i = 6; i <= 9; i++) lines.add(Articles.onTopic(i, i, T0.plusSeconds(i)).toString());
        lines.add(Articles.updated(original, T0.plusSeconds(1800), "<p>An older draft.</p>").toString());

        runToEnd("pipelined", NewsSource.replay(jsonl("pipelined.jsonl", lines).toString()), sink(1));

        assertThat(articleIds()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 42L);
        List<Hit> article42 = hits("news").stream().filter(h -> h.payload().articleId() == 42).toList();
        assertThat(article42).hasSize(1);
        assertThat(article42.get(0).payload().text()).contains("The probe was closed with no findings.");
        assertThat(writes()).as("nine articles, then 42 twice: first version, then its replacement").isEqualTo(11);
        JsonNode metrics = JSON.readTree(dir.resolve("metrics.json").toFile());
        assertThat(metrics.get("articles").asLong()).isEqualTo(12);
        assertThat(metrics.get("articles_added").asLong()).isEqualTo(10);
        assertThat(metrics.get("articles_replaced").asLong()).isEqualTo(1);
        assertThat(metrics.get("articles_unchanged").asLong()).isEqualTo(1);
        int firstVersionChunks = new Chunker(model, model.maxTokens(), 32).chunk(Chunker.articleText(original.get("headline").asText(),
                original.get("summary").asText(), HtmlCleaner.clean(original.get("content").asText()))).size();
        assertThat(firstVersionChunks).isGreaterThanOrEqualTo(3);
        assertThat(metrics.get("chunks").asLong()).isEqualTo(9 + firstVersionChunks + 1);
        assertThat(metrics.get("freshness_ms").get("samples").asInt()).isEqualTo(11);
    }

    @Test
    void backfillPagesThroughTheRangeAndWaitsOutA429() throws Exception {
        try (FakeAlpaca alpaca = new FakeAlpaca()) {
            for (int i = 0; i < 7; i++) alpaca.addToHistory(Articles.onTopic(200 + i, i, T0.plusSeconds(60L * i)));
            alpaca.failNextRest(429, 1);
            NewsSource source = NewsSource.backfill(new BackfillSplit(T0, T0.plusSeconds(3600), List.of(), null, 0),
                    alpaca.settings(), FakeAlpaca.credentials());
            runToEnd("backfill", source, sink());
            assertThat(articleIds()).containsExactly(200L, 201L, 202L, 203L, 204L, 205L, 206L);
            assertThat(alpaca.restQueries).hasSize(4); // the 429, then three pages of at most 3
        }
    }

    @Test
    void aStreamWithADisconnectLosesNothingAndAStoppedJobResumesFromItsSavepoint() throws Exception {
        ExecutorService runner = Executors.newSingleThreadExecutor();
        try (FakeAlpaca alpaca = new FakeAlpaca()) {
            IngestJob.Runtime runtime = runtime("stream");
            NewsSource source = NewsSource.stream(new StreamSplit(List.of(), null, List.of()), alpaca.settings(), FakeAlpaca.credentials());
            CompletableFuture<Void> stop = new CompletableFuture<>();
            Future<Optional<String>> run = runner.submit(() -> {
                var env = IngestJob.environment(runtime, Optional.empty());
                IngestJob.define(env, source, sink());
                return IngestJob.runUntil(env, runtime, "test stream", stop);
            });
            FakeAlpaca.await(WAIT, () -> run.isDone() || alpaca.connections.get() == 1, "the job to connect");
            if (run.isDone()) run.get(); // the job failed: show why
            alpaca.awaitSubscribed(WAIT);
            for (int i = 1; i <= 3; i++) alpaca.publish(Articles.onTopic(i, i, T0.plusSeconds(i)), 3);
            FakeAlpaca.await(WAIT, () -> articleIds().size() == 3, "three streamed articles");
            alpaca.dropConnection();
            for (int i = 4; i <= 6; i++) alpaca.publish(Articles.onTopic(i, i, T0.plusSeconds(i)), 1); // missed by the stream
            FakeAlpaca.await(WAIT, () -> alpaca.connections.get() == 2, "the reconnect");
            alpaca.awaitSubscribed(WAIT);
            for (int i = 7; i <= 8; i++) alpaca.publish(Articles.onTopic(i, i, T0.plusSeconds(i)), 1);
            FakeAlpaca.await(WAIT, () -> articleIds().size() == 8, "all eight articles");
            Thread.sleep(1500); // let a checkpoint cover them
            stop.complete(null);
            Optional<String> savepoint = run.get(2, TimeUnit.MINUTES);
            assertThat(savepoint).isPresent();
            assertThat(writes()).as("each article written exactly once").isEqualTo(8);

            // While the job is down two more articles appear; the resumed job backfills them from its saved cursor.
            for (int i = 9; i <= 10; i++) alpaca.publish(Articles.onTopic(i, i, T0.plusSeconds(i)), 1);
            Optional<Path> restore = IngestJob.latestCheckpoint(runtime.checkpointDir());
            assertThat(restore).isPresent();
            CompletableFuture<Void> stop2 = new CompletableFuture<>();
            Future<Optional<String>> run2 = runner.submit(() -> {
                var env = IngestJob.environment(runtime, restore);
                IngestJob.define(env, NewsSource.stream(new StreamSplit(List.of(), null, List.of()), alpaca.settings(), FakeAlpaca.credentials()), sink());
                return IngestJob.runUntil(env, runtime, "test stream resumed", stop2);
            });
            FakeAlpaca.await(WAIT, () -> articleIds().size() == 10, "the two articles published while stopped");
            FakeAlpaca.await(WAIT, this::reportsRunning, "a report while the stream runs");
            stop2.complete(null);
            run2.get(2, TimeUnit.MINUTES);
            assertThat(articleIds()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
            assertThat(writes()).as("nothing written twice across the restart").isEqualTo(10);
            JsonNode metrics = JSON.readTree(dir.resolve("metrics.json").toFile());
            assertThat(metrics.get("freshness_ms").get("p99").asLong()).isBetween(0L, 10_000L);
        } finally {
            runner.shutdownNow();
        }
    }

    @Test
    void aCancelledJobRestartedFromItsLastCheckpointLosesNothingAndDuplicatesNothing() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 1; i <= 60; i++) lines.add(Articles.onTopic(i, i, T0.plusSeconds(i)).toString());
        Path file = jsonl("many.jsonl", lines);
        IngestJob.Runtime runtime = runtime("cancel");
        var env = IngestJob.environment(runtime, Optional.empty());
        IngestJob.define(env, NewsSource.replay(file.toString()), sink(2));
        var client = env.executeAsync("test cancel");
        FakeAlpaca.await(WAIT, () -> writes() >= 8 && IngestJob.latestCheckpoint(runtime.checkpointDir()).isPresent(),
                "some articles and a checkpoint");
        client.cancel().get(1, TimeUnit.MINUTES);
        // The REST call returns before the task has closed its writer: wait for the job to be cancelled.
        FakeAlpaca.await(WAIT, () -> client.getJobStatus().join().isGloballyTerminalState(), "the job to end");
        // What survived the cancel: everything committed (a write in flight when the task was
        // interrupted may be lost with Lucene's uncommitted changes, and is then simply redone).
        int durable = articleIds().size();
        assertThat(durable).as("cancelled part-way").isLessThan(60);

        Optional<Path> restore = IngestJob.latestCheckpoint(runtime.checkpointDir());
        var again = IngestJob.environment(runtime, restore);
        IngestJob.define(again, NewsSource.replay(file.toString()), sink(2));
        IngestJob.runToEnd(again, runtime, "test cancel resumed");
        assertThat(articleIds()).hasSize(60);
        assertThat(hits("news")).as("one chunk per article: nothing duplicated").hasSize(60);
        JsonNode metrics = JSON.readTree(dir.resolve("metrics.json").toFile());
        // The restored source re-reads only what came after its checkpoint (all of it if that checkpoint
        // was taken before the first article); of that, what was already durable is skipped without a
        // write, the rest is written once.
        assertThat(metrics.get("articles").asLong()).isGreaterThanOrEqualTo(60 - durable).isLessThanOrEqualTo(60);
        assertThat(metrics.get("articles_added").asLong()).isEqualTo(60 - durable);
        assertThat(metrics.get("articles_unchanged").asLong()).isEqualTo(metrics.get("articles").asLong() - (60 - durable));
    }

    /** Whether metrics.json exists and says the job is running. */
    private boolean reportsRunning() {
        try {
            return JSON.readTree(dir.resolve("metrics.json").toFile()).path("running").asBoolean();
        } catch (java.io.IOException e) {
            return false; // not written yet
        }
    }
}
