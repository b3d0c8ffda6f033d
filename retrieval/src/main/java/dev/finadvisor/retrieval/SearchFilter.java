package dev.finadvisor.retrieval;

import java.time.Instant;
import java.util.Set;

/**
 * Restricts a search: {@code created_at} in [since, until) (either end may be null: open) and,
 * when {@code anySymbols} is not empty, points whose article names at least one of them.
 */
public record SearchFilter(Instant since, Instant until, Set<String> anySymbols) {
    public static final SearchFilter NONE = new SearchFilter(null, null, Set.of());

    public SearchFilter {
        anySymbols = anySymbols == null ? Set.of() : Set.copyOf(anySymbols);
    }

    public boolean isEmpty() {
        return since == null && until == null && anySymbols.isEmpty();
    }

    /** Whether a point with this payload passes (the reference semantics every store implements). */
    public boolean matches(ChunkPayload payload) {
        Instant t = payload.createdAt();
        if (since != null && (t == null || t.isBefore(since))) return false;
        if (until != null && (t == null || !t.isBefore(until))) return false;
        return anySymbols.isEmpty() || payload.symbols().stream().anyMatch(anySymbols::contains);
    }
}
