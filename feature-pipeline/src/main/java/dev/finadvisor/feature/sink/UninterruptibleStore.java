package dev.finadvisor.feature.sink;

import dev.finadvisor.retrieval.Hit;
import dev.finadvisor.retrieval.Point;
import dev.finadvisor.retrieval.SearchFilter;
import dev.finadvisor.retrieval.VectorStore;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs every call of a vector store on a thread of its own and waits for it without giving way to
 * interrupts. Flink interrupts a task's thread when it cancels it (failover, cancel); an interrupt
 * inside Lucene's file I/O closes its channels and invalidates the index lock, so the restarted
 * task could not open the index again. Here the interrupt only ends the wait, after the call.
 */
final class UninterruptibleStore implements VectorStore {
    private final VectorStore store;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "vector-store");
        t.setDaemon(true);
        return t;
    });

    UninterruptibleStore(VectorStore store) {
        this.store = store;
    }

    private <T> T call(Callable<T> work) {
        Future<T> future = thread.submit(work);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return future.get();
                } catch (InterruptedException e) {
                    interrupted = true; // finish the store call first; the caller sees the interrupt after
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof RuntimeException r) throw r;
                    if (cause instanceof Error err) throw err;
                    throw new IllegalStateException(cause);
                }
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    private void run(Runnable work) {
        call(() -> {
            work.run();
            return null;
        });
    }

    @Override
    public void upsert(List<Point> points) {
        run(() -> store.upsert(points));
    }

    @Override
    public void replaceArticle(long articleId, List<Point> points) {
        run(() -> store.replaceArticle(articleId, points));
    }

    @Override
    public void deleteArticle(long articleId) {
        run(() -> store.deleteArticle(articleId));
    }

    @Override
    public Optional<Instant> articleUpdatedAt(long articleId) {
        return call(() -> store.articleUpdatedAt(articleId));
    }

    @Override
    public List<Hit> search(float[] query, int k, SearchFilter filter) {
        return call(() -> store.search(query, k, filter));
    }

    @Override
    public long count() {
        return call(store::count);
    }

    @Override
    public java.util.Set<String> symbols() {
        return call(store::symbols);
    }

    @Override
    public void commit() {
        run(store::commit);
    }

    @Override
    public void close() {
        try {
            run(store::close);
        } finally {
            thread.shutdown();
        }
    }
}
