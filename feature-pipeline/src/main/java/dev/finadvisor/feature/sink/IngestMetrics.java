package dev.finadvisor.feature.sink;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finadvisor.domain.runs.AtomicFiles;
import dev.finadvisor.domain.util.LockFile;
import dev.finadvisor.feature.process.ArticleIndexer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ingest job's figures: articles and chunks (total and per second since the first article),
 * dead letters, and freshness (received by the source to committed, i.e. searchable) as p50/p99/max
 * over the latest 10,000 articles of each writer. Written as JSON for the serve command and logged periodically.
 *
 * <p>Each of the job's writers (one, or one per subtask for a store that takes parallel writes) keeps its own and writes
 * them as its part of {@code NAME.writers.json}; {@code NAME} (e.g. {@code metrics.json}) is the sum of every part, made
 * by whichever writer reported last.
 */
public final class IngestMetrics {
    private static final Logger log = LoggerFactory.getLogger(IngestMetrics.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int WINDOW = 10_000;

    private final long[] freshness;
    private int freshnessCount;
    private long freshnessTotal;
    private long firstArticleAt;
    private long articles, added, replaced, unchanged, chunks, deadLetters;

    public IngestMetrics() {
        this(WINDOW);
    }

    private IngestMetrics(int window) {
        freshness = new long[window];
    }

    public synchronized void onArticle(ArticleIndexer.Outcome outcome, long now) {
        if (firstArticleAt == 0) firstArticleAt = now;
        articles++;
        switch (outcome.action()) {
            case ADDED -> added++;
            case REPLACED -> replaced++;
            case UNCHANGED -> unchanged++;
        }
        chunks += outcome.chunks();
    }

    /** A message reached the sink: rates count from the first one, so the time to embed the first batch counts too. */
    public synchronized void onReceived(long now) {
        if (firstArticleAt == 0) firstArticleAt = now;
    }

    public synchronized void onDeadLetter(long now) {
        if (firstArticleAt == 0) firstArticleAt = now;
        deadLetters++;
    }

    public synchronized void onSearchable(long freshnessMillis) {
        freshness[(int) (freshnessTotal % freshness.length)] = freshnessMillis;
        freshnessTotal++;
        freshnessCount = (int) Math.min(freshness.length, freshnessTotal);
    }

    public synchronized long articles() {
        return articles;
    }

    public synchronized long chunks() {
        return chunks;
    }

    public synchronized long deadLetters() {
        return deadLetters;
    }

    /** The q-quantile (0..1) of recent freshness in milliseconds, or -1 with no sample yet. */
    public synchronized long freshnessQuantile(double q) {
        if (freshnessCount == 0) return -1;
        long[] sorted = Arrays.copyOf(freshness, freshnessCount);
        Arrays.sort(sorted);
        int i = (int) Math.ceil(q * freshnessCount) - 1;
        return sorted[Math.max(0, Math.min(freshnessCount - 1, i))];
    }

    private double perSecond(long count, long now) {
        double seconds = firstArticleAt == 0 ? 0 : (now - firstArticleAt) / 1000.0;
        return seconds <= 0 ? 0 : count / seconds;
    }

    /** The counters as of {@code now}; {@code running} false in the job's last report (as it closes). */
    private synchronized ObjectNode toJson(long now, boolean running) {
        ObjectNode n = JSON.createObjectNode();
        n.put("updated_at", Instant.ofEpochMilli(now).toString());
        n.put("running", running);
        n.put("articles", articles).put("articles_added", added).put("articles_replaced", replaced)
                .put("articles_unchanged", unchanged).put("chunks", chunks).put("dead_letters", deadLetters);
        n.put("articles_per_s", round(perSecond(articles, now))).put("chunks_per_s", round(perSecond(chunks, now)));
        ObjectNode f = n.putObject("freshness_ms");
        f.put("p50", freshnessQuantile(0.50)).put("p99", freshnessQuantile(0.99)).put("max", freshnessQuantile(1.0)).put("samples", freshnessCount);
        return n;
    }

    public synchronized String line(long now) {
        return String.format(Locale.ROOT, "ingest: %d articles (%d new, %d replaced, %d unchanged) %.2f/s, %d chunks %.2f/s, %d dead letters, freshness p50 %d ms p99 %d ms",
                articles, added, replaced, unchanged, perSecond(articles, now), chunks, perSecond(chunks, now), deadLetters,
                freshnessQuantile(0.5), freshnessQuantile(0.99));
    }

    /**
     * Writes these figures as writer {@code writer}'s part of {@code NAME.writers.json} beside {@code file}, then {@code file}
     * as the sum of every part (running while any part is), one writer at a time ({@code FILE.lock}: threads of a
     * TaskManager, TaskManagers sharing the folder). Both atomically (temp file, fsync, rename): a reader never sees half of one.
     */
    public void writeTo(Path file, int writer, long now, boolean running) {
        Path partsFile = partsFile(file);
        try (LockFile lock = LockFile.beside(file)) {
            ObjectNode parts = JSON.createObjectNode();
            if (Files.exists(partsFile)) {
                try {
                    parts = (ObjectNode) JSON.readTree(partsFile.toFile());
                } catch (IOException | ClassCastException e) {
                    log.warn("{} is unreadable ({}): the other writers' figures are left out until they report again", partsFile, e.getMessage());
                }
            }
            parts.set(Integer.toString(writer), part(now, running));
            AtomicFiles.write(partsFile, bytes(JSON.writer(), parts));
            ObjectNode sum = sum(parts).toJson(now, anyRunning(parts));
            sum.put("writers", parts.size());
            AtomicFiles.write(file, bytes(JSON.writerWithDefaultPrettyPrinter(), sum));
        }
    }

    /** Removes {@code file} and the writers' parts beside it (a new run's figures start from nothing). */
    public static void delete(Path file) throws IOException {
        Files.deleteIfExists(file);
        Files.deleteIfExists(partsFile(file));
    }

    private static Path partsFile(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return file.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + ".writers.json");
    }

    /** What a writer reports: its counters, when it started, whether it runs, and its recent freshness samples. */
    private synchronized ObjectNode part(long now, boolean running) {
        ObjectNode n = JSON.createObjectNode();
        n.put("updated_at_ms", now).put("running", running).put("first_article_at_ms", firstArticleAt);
        n.put("articles", articles).put("added", added).put("replaced", replaced).put("unchanged", unchanged)
                .put("chunks", chunks).put("dead_letters", deadLetters);
        var samples = n.putArray("freshness_ms");
        for (int i = 0; i < freshnessCount; i++) samples.add(freshness[i]);
        return n;
    }

    /** The writers' figures together: counts added, rates from the first article any of them saw, every freshness sample. */
    private static IngestMetrics sum(ObjectNode parts) {
        int samples = 0;
        for (JsonNode p : parts) samples += p.path("freshness_ms").size();
        IngestMetrics sum = new IngestMetrics(Math.max(1, samples));
        for (JsonNode p : parts) {
            long first = p.path("first_article_at_ms").asLong();
            if (first != 0 && (sum.firstArticleAt == 0 || first < sum.firstArticleAt)) sum.firstArticleAt = first;
            sum.articles += p.path("articles").asLong();
            sum.added += p.path("added").asLong();
            sum.replaced += p.path("replaced").asLong();
            sum.unchanged += p.path("unchanged").asLong();
            sum.chunks += p.path("chunks").asLong();
            sum.deadLetters += p.path("dead_letters").asLong();
            for (JsonNode f : p.path("freshness_ms")) sum.onSearchable(f.asLong());
        }
        return sum;
    }

    private static boolean anyRunning(ObjectNode parts) {
        for (JsonNode p : parts) if (p.path("running").asBoolean()) return true;
        return false;
    }

    private static byte[] bytes(ObjectWriter writer, JsonNode json) {
        try {
            return writer.writeValueAsBytes(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
