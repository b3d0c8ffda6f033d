package dev.finadvisor.feature.testing;

import dev.finadvisor.retrieval.Hit;
import dev.finadvisor.retrieval.Point;
import dev.finadvisor.retrieval.SearchFilter;
import dev.finadvisor.retrieval.VectorStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Exact (brute-force) vector store kept in memory under a name, so a test can look inside what a
 * Flink job in the same JVM wrote. Counts writes to show that a no-op wrote nothing.
 */
public final class MemoryVectorStore implements VectorStore {
    private static final Map<String, MemoryVectorStore> BY_NAME = new ConcurrentHashMap<>();

    private final TreeMap<String, Point> points = new TreeMap<>();
    public volatile int writes;
    public volatile int commits;

    public static MemoryVectorStore named(String name) {
        return BY_NAME.computeIfAbsent(name, n -> new MemoryVectorStore());
    }

    @Override
    public synchronized void upsert(List<Point> list) {
        writes++;
        for (Point p : list) points.put(p.id(), p);
    }

    @Override
    public synchronized void replaceArticle(long articleId, List<Point> list) {
        writes++;
        points.values().removeIf(p -> p.payload().articleId() == articleId);
        for (Point p : list) points.put(p.id(), p);
    }

    @Override
    public synchronized void deleteArticle(long articleId) {
        writes++;
        points.values().removeIf(p -> p.payload().articleId() == articleId);
    }

    @Override
    public synchronized Optional<Instant> articleUpdatedAt(long articleId) {
        return points.values().stream().filter(p -> p.payload().articleId() == articleId).map(p -> p.payload().updatedAt()).findFirst();
    }

    @Override
    public synchronized List<Hit> search(float[] query, int k, SearchFilter filter) {
        List<Hit> hits = new ArrayList<>();
        for (Point p : points.values()) {
            float dot = 0;
            for (int i = 0; i < query.length; i++) dot += query[i] * p.vector()[i];
            hits.add(new Hit(p.id(), dot, p.payload()));
        }
        hits.sort(Comparator.comparingDouble((Hit h) -> -h.score()));
        return hits.subList(0, Math.min(k, hits.size()));
    }

    public synchronized List<Point> points() {
        return List.copyOf(points.values());
    }

    @Override
    public synchronized long count() {
        return points.size();
    }

    @Override
    public void commit() {
        commits++;
    }

    @Override
    public void close() {}
}
