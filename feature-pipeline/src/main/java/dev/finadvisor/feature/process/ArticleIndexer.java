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
 * Puts articles into the vector store, idempotently: an article the store already holds at the
 * same or a newer {@code updated_at} is left alone (no embedding, no write); a newer version replaces
 * every chunk of the old one; point ids come from article id and chunk index. Planning and writing
 * are apart so the chunks of several articles can be embedded in one batch.
 */
public final class ArticleIndexer {
    /** What indexing one article did. */
    public enum Action { ADDED, REPLACED, UNCHANGED }

    /** The action and how many chunks were written (0 when unchanged). */
    public record Outcome(Action action, int chunks) {}

    /** An article to write: its chunk texts, and whether an older version is in the store. */
    public record Planned(NewsArticle article, List<String> chunks, boolean replacing) {}

    private final Embedder embedder;
    private final VectorStore store;
    private final Chunker chunker;

    public ArticleIndexer(Embedder embedder, VectorStore store, Chunker chunker) {
        this.embedder = embedder;
        this.store = store;
        this.chunker = chunker;
    }

    /** The article's chunks if it must be written, empty if the store holds this version or a newer one. */
    public Optional<Planned> plan(NewsArticle article, String body) {
        return plan(article, () -> chunks(chunker, article, body));
    }

    /** The same, for an article chunked (and embedded) elsewhere: {@code chunks} are its chunk texts. */
    public Optional<Planned> plan(NewsArticle article, List<String> chunks) {
        return plan(article, () -> chunks);
    }

    private Optional<Planned> plan(NewsArticle article, java.util.function.Supplier<List<String>> chunks) {
        Optional<Instant> stored = store.articleUpdatedAt(article.id());
        if (stored.isPresent() && !article.updatedAt().isAfter(stored.get())) return Optional.empty();
        return Optional.of(new Planned(article, chunks.get(), stored.isPresent()));
    }

    /** The texts an article is indexed as: headline, summary and cleaned body, in chunks. */
    public static List<String> chunks(Chunker chunker, NewsArticle article, String body) {
        return chunker.chunk(Chunker.articleText(article.headline(), article.summary(), body));
    }

    /** Embeds the chunks of every planned article in one call, then replaces each article's points. */
    public List<Outcome> write(List<Planned> batch) {
        return write(batch, embed(batch));
    }

    /** The vectors of every chunk of the batch, in order, from one call of the embedder. */
    public List<float[]> embed(List<Planned> batch) {
        List<String> texts = new ArrayList<>();
        for (Planned p : batch) texts.addAll(p.chunks());
        List<float[]> vectors = texts.isEmpty() ? List.of() : embedder.embedAll(texts);
        if (vectors.size() != texts.size()) {
            throw new IllegalStateException("embedder returned " + vectors.size() + " vectors for " + texts.size() + " chunks");
        }
        return vectors;
    }

    /** Replaces each planned article's points with its chunks and their {@code vectors} (from {@link #embed}). */
    public List<Outcome> write(List<Planned> batch, List<float[]> vectors) {
        int chunks = batch.stream().mapToInt(p -> p.chunks().size()).sum();
        if (vectors.size() != chunks) {
            throw new IllegalArgumentException(vectors.size() + " vectors for a batch of " + chunks + " chunks");
        }
        List<Outcome> outcomes = new ArrayList<>(batch.size());
        int next = 0;
        for (Planned p : batch) {
            NewsArticle a = p.article();
            List<Point> points = new ArrayList<>(p.chunks().size());
            for (int i = 0; i < p.chunks().size(); i++) {
                ChunkPayload payload = new ChunkPayload(a.id(), i, p.chunks().get(i), a.headline(), a.summary(),
                        a.url(), a.symbols(), a.source(), a.author(), a.createdAt(), a.updatedAt());
                points.add(new Point(payload.pointId(), vectors.get(next++), payload));
            }
            // replaceArticle even for a new id: a crash between partial writes must not leave stale chunks.
            store.replaceArticle(a.id(), points);
            outcomes.add(new Outcome(p.replacing() ? Action.REPLACED : Action.ADDED, points.size()));
        }
        return outcomes;
    }
}
