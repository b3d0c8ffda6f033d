package dev.finadvisor.retrieval;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where embedded news chunks live and are searched: Lucene HNSW on disk (the embedded default)
 * or Qdrant (scale-out). Upserts are idempotent by point id.
 */
public interface VectorStore extends AutoCloseable {
    /** Inserts or overwrites points by id. */
    void upsert(List<Point> points);

    /** Replaces all points of one article with {@code points} (fewer chunks than before leave none stale). */
    void replaceArticle(long articleId, List<Point> points);

    /** Deletes every point of an article. */
    void deleteArticle(long articleId);

    /** The {@code updated_at} of the stored version of an article, if the store holds it. */
    Optional<Instant> articleUpdatedAt(long articleId);

    /** The {@code k} nearest points to a unit-length query vector that pass the filter, best first. */
    List<Hit> search(float[] query, int k, SearchFilter filter);

    /** How many points the store holds. */
    long count();

    /** Size and time range of the store; a store that cannot tell the range leaves it null. */
    default StoreStats stats() {
        return new StoreStats(getClass().getSimpleName(), "", count(), null, null, null);
    }

    /**
     * Every ticker at least one stored point names, so a question's tickers and company names can
     * become a symbol filter. Every store must answer (the serving chain relies on it); a store that
     * cannot reach its data throws, like {@link #search}.
     */
    java.util.Set<String> symbols();

    /**
     * The newest {@code limit} articles the store holds, newest first, each as its first chunk's payload (headline,
     * summary, symbols, times): news to draw from without a query (e.g. {@code dataset generate --news-store}). A store
     * that cannot list its points says so.
     */
    default List<ChunkPayload> newestArticles(int limit) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot list its articles; export the news to a JSON Lines file");
    }

    /** Makes everything upserted so far durable. */
    void commit();

    @Override
    void close();
}
