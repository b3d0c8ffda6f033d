package dev.finadvisor.inference;

import dev.finadvisor.retrieval.Hit;
import dev.finadvisor.retrieval.Point;
import dev.finadvisor.retrieval.SearchFilter;
import dev.finadvisor.retrieval.VectorStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;

/** Exact (brute-force) search over points in memory: a reference for what the Lucene store must return. */
public final class MemoryVectorStore implements VectorStore {
    private final Map<String, Point> points = Collections.synchronizedMap(new LinkedHashMap<>());
    private volatile Runnable beforeSymbolListing = () -> {};
    private final AtomicInteger symbolListings = new AtomicInteger();
    private volatile RuntimeException searchFailure;

    /** Makes {@link #symbols()} throw {@code failure} (null: answer again), as a store that lost its connection does. */
    public void failSymbolListing(RuntimeException failure) {
        beforeSymbolListing = failure == null ? () -> {} : () -> {
            throw failure;
        };
    }

    /** Runs {@code action} at the start of every {@link #symbols()} call (e.g. to make it hang, as a stuck connection does). */
    public void beforeSymbolListing(Runnable action) {
        beforeSymbolListing = action;
    }

    /** Makes {@link #search} throw {@code failure} (null: answer again), as a store in an outage does. */
    public void failSearch(RuntimeException failure) {
        searchFailure = failure;
    }

    /** How often {@link #symbols()} was asked. */
    public int symbolListings() {
        return symbolListings.get();
    }

    @Override
    public void upsert(List<Point> list) {
        list.forEach(p -> points.put(p.id(), p));
    }

    @Override
    public void replaceArticle(long articleId, List<Point> list) {
        deleteArticle(articleId);
        upsert(list);
    }

    @Override
    public void deleteArticle(long articleId) {
        points.values().removeIf(p -> p.payload().articleId() == articleId);
    }

    @Override
    public Optional<Instant> articleUpdatedAt(long articleId) {
        return points.values().stream().filter(p -> p.payload().articleId() == articleId).map(p -> p.payload().updatedAt()).findFirst();
    }

    @Override
    public List<Hit> search(float[] query, int k, SearchFilter filter) {
        if (searchFailure != null) throw searchFailure;
        List<Hit> hits = new ArrayList<>();
        for (Point p : List.copyOf(points.values())) {
            Instant t = p.payload().createdAt();
            if (filter.since() != null && t.isBefore(filter.since())) continue;
            if (filter.until() != null && !t.isBefore(filter.until())) continue;
            if (!filter.anySymbols().isEmpty() && p.payload().symbols().stream().noneMatch(filter.anySymbols()::contains)) continue;
            float dot = 0;
            for (int i = 0; i < query.length; i++) dot += query[i] * p.vector()[i];
            hits.add(new Hit(p.id(), dot, p.payload()));
        }
        hits.sort(Comparator.comparing(Hit::score).reversed());
        return hits.subList(0, Math.min(k, hits.size()));
    }

    @Override
    public long count() {
        return points.size();
    }

    @Override
    public Set<String> symbols() {
        symbolListings.incrementAndGet();
        beforeSymbolListing.run();
        Set<String> out = new TreeSet<>();
        for (Point p : List.copyOf(points.values())) out.addAll(p.payload().symbols());
        return out;
    }

    @Override
    public void commit() {}

    @Override
    public void close() {}
}
