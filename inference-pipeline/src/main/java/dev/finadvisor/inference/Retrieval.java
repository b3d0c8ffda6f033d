package dev.finadvisor.inference;

import dev.finadvisor.retrieval.Hit;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * What retrieval found for one question: the best chunk of each of up to k distinct articles (best
 * first), the symbols it filtered by, the window start and how long embedding and search took.
 */
public record Retrieval(List<Hit> articles, Set<String> symbols, Instant since, int chunkHits, long embedMs, long searchMs) {
    public static Retrieval none(Instant since) {
        return new Retrieval(List.of(), Set.of(), since, 0, 0, 0);
    }

    public long millis() {
        return embedMs + searchMs;
    }
}
