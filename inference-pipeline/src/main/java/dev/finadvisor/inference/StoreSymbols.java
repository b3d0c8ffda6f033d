package dev.finadvisor.inference;

import dev.finadvisor.retrieval.VectorStore;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's symbols, re-read at most once per {@code ttl}: the feature pipeline keeps adding news.
 *
 * <p>When listing fails (e.g. Qdrant unreachable or timing out), the last set read is kept (none
 * before the first success) and a warning is logged; the listing is retried after another
 * {@code ttl}. Why not fail the request with a 503: the symbol filter only narrows a search that
 * is meaningful without it (recent news nearest to the question), so an answer grounded in
 * unfiltered news beats no answer; if the store is down altogether, the search that follows fails
 * on its own. Waiting a full {@code ttl} before retrying, and letting only one caller re-read,
 * means a hanging store costs one request per {@code ttl} a timeout, not every request.
 */
public final class StoreSymbols implements Supplier<Set<String>> {
    private static final Logger log = LoggerFactory.getLogger(StoreSymbols.class);
    private final VectorStore store;
    private final long ttlNanos;
    private volatile Set<String> cached;
    private volatile long readAt;
    private final AtomicBoolean refreshing = new AtomicBoolean();

    public StoreSymbols(VectorStore store, Duration ttl) {
        this.store = store;
        this.ttlNanos = ttl.toNanos();
    }

    @Override
    public Set<String> get() {
        Set<String> s = cached;
        if (s == null) {
            synchronized (this) { // nothing to answer with yet: the first callers wait for one read
                if (cached == null) refresh();
                return cached;
            }
        }
        // One caller re-reads a stale list; the others answer with the last one meanwhile, so a slow
        // or hanging store delays one request, not all that arrive while it hangs.
        if (System.nanoTime() - readAt > ttlNanos && refreshing.compareAndSet(false, true)) {
            try {
                refresh();
            } finally {
                refreshing.set(false);
            }
        }
        return cached;
    }

    private void refresh() {
        cached = read(cached);
        readAt = System.nanoTime();
    }

    private Set<String> read(Set<String> previous) {
        try {
            return Set.copyOf(store.symbols());
        } catch (RuntimeException e) {
            log.warn("listing the news store's symbols failed; questions naming tickers search {} until a retry in {} ms: {}",
                    previous == null ? "all news without a symbol filter" : "with the " + previous.size() + " symbols last read",
                    ttlNanos / 1_000_000L, e.toString());
            return previous == null ? Set.of() : previous;
        }
    }
}
