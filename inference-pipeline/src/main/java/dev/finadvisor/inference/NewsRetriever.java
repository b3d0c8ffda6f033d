package dev.finadvisor.inference;

import dev.finadvisor.retrieval.Embedder;
import dev.finadvisor.retrieval.Hit;
import dev.finadvisor.retrieval.SearchFilter;
import dev.finadvisor.retrieval.VectorStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Finds recent news relevant to a question: embeds it, searches the store inside the recency window
 * (and for the tickers the question names, when the store holds them), and keeps the best chunk of
 * each of the k best distinct articles.
 */
public final class NewsRetriever {
    private final Embedder embedder;
    private final VectorStore store;
    private final Supplier<Set<String>> storeSymbols;
    private final SymbolDetector symbols;
    private final int candidates;
    private final boolean symbolFilter;
    private final Clock clock;

    /**
     * @param storeSymbols the tickers the store holds news for (asked on every search: cache it if listing is slow)
     * @param candidates how many chunks to ask HNSW for before keeping k distinct articles (recall needs ~50)
     */
    public NewsRetriever(Embedder embedder, VectorStore store, Supplier<Set<String>> storeSymbols, SymbolDetector symbols,
                         int candidates, boolean symbolFilter, Clock clock) {
        this.embedder = embedder;
        this.store = store;
        this.storeSymbols = storeSymbols;
        this.symbols = symbols;
        this.candidates = candidates;
        this.symbolFilter = symbolFilter;
        this.clock = clock;
    }

    public Retrieval retrieve(String question, int k, Duration window) {
        Instant since = clock.instant().minus(window);
        if (k == 0) return Retrieval.none(since);
        long t0 = System.nanoTime();
        float[] query = embedder.embed(question);
        long t1 = System.nanoTime();
        Set<String> named = symbolFilter ? symbols.detect(question, storeSymbols.get()) : Set.of();
        List<Hit> hits = store.search(query, Math.max(candidates, k), new SearchFilter(since, null, named));
        long t2 = System.nanoTime();
        return new Retrieval(distinctArticles(hits, k), named, since, hits.size(), (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000);
    }

    /** The {@code k} chunks nearest {@code text} that pass {@code filter}, best first: what {@code finadvisor search} finds. */
    public List<Hit> search(String text, int k, SearchFilter filter) {
        return store.search(embedder.embed(text), k, filter);
    }

    /** What the store holds (chunks, articles, the newest article's time). */
    public dev.finadvisor.retrieval.StoreStats storeStats() {
        return store.stats();
    }

    /** The first (best) chunk of each article, in score order, at most k of them. */
    static List<Hit> distinctArticles(List<Hit> hits, int k) {
        List<Hit> sorted = new ArrayList<>(hits);
        sorted.sort((a, b) -> Float.compare(b.score(), a.score()));
        Set<Long> seen = new HashSet<>();
        List<Hit> out = new ArrayList<>();
        for (Hit h : sorted) {
            if (out.size() == k) break;
            if (seen.add(h.payload().articleId())) out.add(h);
        }
        return out;
    }
}
