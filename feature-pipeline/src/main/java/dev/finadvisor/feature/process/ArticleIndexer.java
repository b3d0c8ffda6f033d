package dev.finadvisor.feature.process;

import dev.finadvisor.domain.news.NewsArticle;
import dev.finadvisor.retrieval.ChunkPayload;
import dev.finadvisor.retrieval.Embedder;
import dev.finadvisor.retrieval.Point;
import dev.finadvisor.retrieval.VectorStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Puts one article into the vector store, idempotently: an article the store already holds at the
 * same or a newer {@code updated_at} is left alone (no embedding, no write); a newer version replaces
 * every chunk of the old one; point ids come from article id and chunk index.
 */
public final class ArticleIndexer {
    /** What indexing one article did. */
    public enum Action { ADDED, REPLACED, UNCHANGED }

    /** The action and how many chunks were written (0 when unchanged). */
    public record Outcome(Action action, int chunks) {}

    private final Embedder embedder;
    private final VectorStore store;
    private final Chunker chunker;

    public ArticleIndexer(Embedder embedder, VectorStore store, Chunker chunker) {
        this.embedder = embedder;
        this.store = store;
        this.chunker = chunker;
    }

    /** Indexes {@code article} whose HTML content has already been cleaned into {@code body}. */
    public Outcome index(NewsArticle article, String body) {
        Optional<Instant> stored = store.articleUpdatedAt(article.id());
        if (stored.isPresent() && !article.updatedAt().isAfter(stored.get())) {
            return new Outcome(Action.UNCHANGED, 0);
        }
        List<String> texts = chunker.chunk(Chunker.articleText(article.headline(), article.summary(), body));
        List<float[]> vectors = embedder.embedAll(texts);
        if (vectors.size() != texts.size()) {
            throw new IllegalStateException("embedder returned " + vectors.size() + " vectors for " + texts.size() + " chunks");
        }
        List<Point> points = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            ChunkPayload payload = new ChunkPayload(article.id(), i, texts.get(i), article.headline(), article.summary(),
                    article.url(), article.symbols(), article.source(), article.author(), article.createdAt(), article.updatedAt());
            points.add(new Point(payload.pointId(), vectors.get(i), payload));
        }
        // replaceArticle even for a new id: a crash between partial writes must not leave stale chunks.
        store.replaceArticle(article.id(), points);
        return new Outcome(stored.isPresent() ? Action.REPLACED : Action.ADDED, points.size());
    }
}
