package dev.finadvisor.inference;

import dev.finadvisor.retrieval.VectorStore;
import java.time.Duration;
import java.util.Set;
import java.util.function.Supplier;

/** The store's symbols, re-read at most once per {@code ttl}: the feature pipeline keeps adding news. */
public final class StoreSymbols implements Supplier<Set<String>> {
    private final VectorStore store;
    private final long ttlNanos;
    private volatile Set<String> cached;
    private volatile long readAt;

    public StoreSymbols(VectorStore store, Duration ttl) {
        this.store = store;
        this.ttlNanos = ttl.toNanos();
    }

    @Override
    public Set<String> get() {
        long now = System.nanoTime();
        Set<String> s = cached;
        if (s == null || now - readAt > ttlNanos) {
            synchronized (this) {
                if (cached == null || System.nanoTime() - readAt > ttlNanos) {
                    cached = Set.copyOf(store.symbols());
                    readAt = System.nanoTime();
                }
                s = cached;
            }
        }
        return s;
    }
}
