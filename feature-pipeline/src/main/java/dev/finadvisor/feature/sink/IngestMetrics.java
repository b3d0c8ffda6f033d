package dev.finadvisor.feature.sink;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finadvisor.feature.process.ArticleIndexer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Arrays;
import java.util.Locale;

/**
 * The ingest job's figures: articles and chunks (total and per second since the first article),
 * dead letters, and freshness (received by the source to committed, i.e. searchable) as p50/p99/max
 * over the latest 10,000 articles. Written as JSON for the serve command and logged periodically.
 */
public final class IngestMetrics {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int WINDOW = 10_000;

    private final long[] freshness = new long[WINDOW];
    private int freshnessCount;
    private long freshnessTotal;
    private long firstArticleAt;
    private long articles, added, replaced, unchanged, chunks, deadLetters;

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
        freshness[(int) (freshnessTotal % WINDOW)] = freshnessMillis;
        freshnessTotal++;
        freshnessCount = (int) Math.min(WINDOW, freshnessTotal);
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
    public synchronized ObjectNode toJson(long now, boolean running) {
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

    /** Writes the JSON atomically (temp file, then rename) so a reader never sees half of it. */
    public void writeTo(Path file, long now, boolean running) throws IOException {
        if (file.getParent() != null) Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toJson(now, running)));
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
