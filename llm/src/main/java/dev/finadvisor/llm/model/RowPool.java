package dev.finadvisor.llm.model;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Splits row ranges across a few threads for decoding, which runs one small parallel loop
 * after another (about 60 per token): the caller works beside the workers, which spin briefly
 * before parking, because waking a parked thread costs tens of microseconds, a pool's queue more.
 */
final class RowPool implements AutoCloseable {
    /** Work on rows {@code [from, to)}. */
    interface RowTask {
        void run(int from, int to);
    }

    private static final long SPIN_NANOS = 200_000;
    private static final int CHUNKS_PER_THREAD = 8;

    private final int threads;
    private final Thread[] workers;
    private final AtomicInteger epoch = new AtomicInteger();
    private final AtomicInteger finished = new AtomicInteger();
    private volatile RowTask task;
    private volatile int rows;
    private volatile int chunk;
    private final AtomicInteger next = new AtomicInteger();
    private volatile boolean closed;
    private volatile Throwable failure;

    RowPool(int threads) {
        this.threads = Math.max(1, threads);
        this.workers = new Thread[this.threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Thread(this::work, "finadvisor-decode-" + (i + 1));
            workers[i].setDaemon(true);
            workers[i].start();
        }
    }

    /**
     * Runs {@code task} over rows {@code [0, rows)} in chunks that every thread takes from a shared counter (so a
     * thread that is slowed, e.g. by the other core's memory traffic, takes fewer); returns when all are done.
     */
    void run(int rows, RowTask task) {
        if (threads == 1 || rows < 2 * threads) {
            task.run(0, rows);
            return;
        }
        this.task = task;
        this.rows = rows;
        this.chunk = Math.max(1, rows / (threads * CHUNKS_PER_THREAD));
        next.set(0);
        finished.set(0);
        failure = null;
        epoch.incrementAndGet(); // publishes task, rows and chunk to the workers
        for (Thread w : workers) LockSupport.unpark(w);
        try {
            takeChunks(task, rows, chunk);
        } finally {
            while (finished.get() < workers.length) Thread.onSpinWait();
        }
        Throwable t = failure;
        if (t instanceof RuntimeException e) throw e;
        if (t instanceof Error e) throw e;
    }

    private void takeChunks(RowTask task, int rows, int chunk) {
        for (int from; (from = next.getAndAdd(chunk)) < rows; ) task.run(from, Math.min(rows, from + chunk));
    }

    private void work() {
        int seen = 0;
        while (true) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            int e;
            while ((e = epoch.get()) == seen && !closed) {
                if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            if (closed) return;
            seen = e;
            try {
                takeChunks(task, rows, chunk);
            } catch (Throwable t) {
                failure = t;
            } finally {
                finished.incrementAndGet();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
