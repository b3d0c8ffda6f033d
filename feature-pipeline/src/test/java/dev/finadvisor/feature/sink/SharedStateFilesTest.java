package dev.finadvisor.feature.sink;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.feature.process.ArticleIndexer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state folder's files as parallel writers share them: one dead-letter file, one metrics file summing every writer. */
class SharedStateFilesTest {
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir Path dir;

    @Test
    void writersAppendingDeadLettersAtOnceLeaveEveryLineWholeAndAReopenedFileSkipsWhatItHolds() throws Exception {
        Path file = dir.resolve("state/dead-letters.jsonl");
        String big = "x".repeat(20_000); // longer than a writer's buffer: one line takes several writes
        ExecutorService threads = Executors.newFixedThreadPool(2);
        DeadLetterFile a = new DeadLetterFile(file);
        DeadLetterFile b = new DeadLetterFile(file);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (DeadLetterFile f : List.of(a, b)) {
                String origin = f == a ? "a" : "b";
                done.add(threads.submit((Callable<Void>) () -> {
                    for (int i = 0; i < 200; i++) f.add(origin, "bad", 0, i + big);
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
        } finally {
            threads.shutdownNow();
        }
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(400);
        Set<String> seen = new HashSet<>();
        for (String line : lines) {
            JsonNode n = JSON.readTree(line); // throws on a line two writers interleaved
            seen.add(n.get("origin").asText() + n.get("raw").asText().length());
        }
        assertThat(seen).hasSize(2 * 3); // a and b, raw of 20,001 to 20,003 characters
        DeadLetterFile again = new DeadLetterFile(file);
        assertThat(again.add("a", "bad", 0, 7 + big)).as("a replayed message").isFalse();
        assertThat(again.add("a", "bad", 0, 200 + big)).isTrue();
    }

    @Test
    void aLineAWriterKilledMidWayLeftDoesNotSwallowTheNextOne() throws Exception {
        Path file = dir.resolve("dead-letters.jsonl");
        Files.writeString(file, "{\"origin\":\"x\",\"reason\":\"bad\",\"raw\":\"torn"); // no newline: its writer died
        new DeadLetterFile(file).add("news.jsonl line 3", "not valid JSON", 0, "not json");
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(2);
        assertThat(JSON.readTree(lines.get(1)).get("origin").asText()).isEqualTo("news.jsonl line 3");
    }

    @Test
    void theMetricsFileIsTheSumOfEveryWritersLatestReportAndRunsWhileAnyWriterRuns() throws Exception {
        Path file = dir.resolve("metrics.json");
        IngestMetrics first = new IngestMetrics(), second = new IngestMetrics();
        for (int i = 0; i < 3; i++) first.onArticle(new ArticleIndexer.Outcome(ArticleIndexer.Action.ADDED, 2), 1_000);
        first.onSearchable(100);
        first.onSearchable(300);
        second.onArticle(new ArticleIndexer.Outcome(ArticleIndexer.Action.REPLACED, 5), 3_000);
        second.onDeadLetter(3_000);
        second.onSearchable(200);

        first.writeTo(file, 0, 11_000, true);
        second.writeTo(file, 1, 11_000, true);
        first.writeTo(file, 0, 11_000, false); // a later report replaces the writer's earlier one
        JsonNode m = JSON.readTree(file.toFile());
        assertThat(m.get("writers").asInt()).isEqualTo(2);
        assertThat(m.get("running").asBoolean()).as("the second writer still runs").isTrue();
        assertThat(m.get("articles").asLong()).isEqualTo(4);
        assertThat(m.get("articles_added").asLong()).isEqualTo(3);
        assertThat(m.get("articles_replaced").asLong()).isEqualTo(1);
        assertThat(m.get("chunks").asLong()).isEqualTo(11);
        assertThat(m.get("dead_letters").asLong()).isEqualTo(1);
        assertThat(m.get("articles_per_s").asDouble()).as("since the first article either saw, 10 s").isEqualTo(0.4);
        assertThat(m.get("freshness_ms").get("p50").asLong()).isEqualTo(200);
        assertThat(m.get("freshness_ms").get("max").asLong()).isEqualTo(300);
        assertThat(m.get("freshness_ms").get("samples").asInt()).isEqualTo(3);

        second.writeTo(file, 1, 12_000, false);
        assertThat(JSON.readTree(file.toFile()).get("running").asBoolean()).isFalse();
        IngestMetrics.delete(file);
        assertThat(file).doesNotExist();
        assertThat(dir.resolve("metrics.writers.json")).doesNotExist();
    }
}
