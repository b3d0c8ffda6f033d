package dev.finadvisor.feature.testing;

import dev.finadvisor.retrieval.Hit;
import dev.finadvisor.retrieval.LuceneVectorStore;
import dev.finadvisor.retrieval.Point;
import dev.finadvisor.retrieval.SearchFilter;
import dev.finadvisor.retrieval.VectorStore;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real Lucene vector store that also counts the writes made to it (per directory, across jobs in
 * this JVM), so a test can show that a duplicate wrote nothing and a restart wrote nothing twice.
 */
public final class CountingStore implements VectorStore {
    private static final Map<String, AtomicInteger> WRITES = new ConcurrentHashMap<>();

    private final VectorStore lucene;
    private final AtomicInteger writes;

    private CountingStore(Path dir) {
        this.lucene = LuceneVectorStore.open(dir, 384);
        this.writes = writesTo(dir);
    }

    public static VectorStore open(String dir) {
        return new CountingStore(Path.of(dir));
    }

    public static AtomicInteger writesTo(Path dir) {
        return WRITES.computeIfAbsent(dir.toAbsolutePath().toString(), d -> new AtomicInteger());
    }

    @Override
    public void upsert(List<Point> points) {
        writes.incrementAndGet();
        lucene.upsert(points);
    }

    @Override
    public void replaceArticle(long articleId, List<Point> points) {
        writes.incrementAndGet();
        lucene.replaceArticle(articleId, points);
    }

    @Override
    public void deleteArticle(long articleId) {
        writes.incrementAndGet();
        lucene.deleteArticle(articleId);
    }

    @Override
    public Optional<Instant> articleUpdatedAt(long articleId) {
        return lucene.articleUpdatedAt(articleId);
    }

    @Override
    public List<Hit> search(float[] query, int k, SearchFilter filter) {
        return lucene.search(query, k, filter);
    }

    @Override
    public long count() {
        return lucene.count();
    }

    @Override
    public java.util.Set<String> symbols() {
        return lucene.symbols();
    }

    @Override
    public void commit() {
        lucene.commit();
    }

    @Override
    public void close() {
        lucene.close();
    }
}
