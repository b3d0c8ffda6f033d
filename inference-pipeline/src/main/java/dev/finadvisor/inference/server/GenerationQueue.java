package dev.finadvisor.inference.server;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * One model, one thread: generations run one at a time; at most {@code capacity} more wait. A request
 * takes its place ({@link #admit}) before any retrieval work, so a full queue answers 503 at once.
 */
public final class GenerationQueue implements AutoCloseable {
    private final Semaphore places;
    private final int size;
    private final ExecutorService model = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "model");
        t.setDaemon(true);
        return t;
    });
    /** Exponential moving average of a generation's duration, for Retry-After. */
    private final AtomicLong averageMillis = new AtomicLong(1000);

    public GenerationQueue(int capacity) {
        this.size = capacity + 1;
        this.places = new Semaphore(size, true);
    }

    /** A place in the queue; close it to give the place back. */
    public final class Ticket implements AutoCloseable {
        private boolean released;

        /**
         * Runs {@code work} on the model thread and waits for it. While waiting, {@code disconnected} is
         * polled: the work is expected to watch the same signal and stop early.
         */
        public <T> T run(Callable<T> work, BooleanSupplier disconnected, long timeoutMillis) throws Exception {
            long start = System.nanoTime();
            java.util.concurrent.atomic.AtomicBoolean started = new java.util.concurrent.atomic.AtomicBoolean();
            Future<T> f = model.submit(() -> {
                started.set(true);
                long t0 = System.nanoTime();
                try {
                    return work.call();
                } finally {
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    averageMillis.updateAndGet(avg -> (avg * 7 + ms) / 8);
                }
            });
            while (true) {
                try {
                    return f.get(50, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    if (disconnected.getAsBoolean() && !started.get()) {
                        // Not yet started: drop it from the model's queue. Running: it watches the same signal
                        // and stops within a token, and its partial result is still worth logging.
                        f.cancel(false);
                    }
                    if ((System.nanoTime() - start) / 1_000_000 > timeoutMillis + 60_000) {
                        f.cancel(false);
                        throw new TimeoutException("generation did not finish in " + timeoutMillis + " ms");
                    }
                    if (f.isCancelled()) throw new java.util.concurrent.CancellationException("client disconnected");
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof Exception ex) throw ex;
                    throw e;
                }
            }
        }

        @Override
        public synchronized void close() {
            if (!released) {
                released = true;
                places.release();
            }
        }
    }

    /** A place, or 503 with Retry-After when every place is taken. */
    public Ticket admit() {
        if (!places.tryAcquire()) {
            long seconds = Math.max(1, (averageMillis.get() * size + 999) / 1000);
            throw new ApiException(503, "server_overloaded", null,
                    "the generation queue is full (" + size + " requests running or waiting); retry after " + seconds + " s",
                    java.util.Map.of("Retry-After", Long.toString(seconds)));
        }
        return new Ticket();
    }

    /** Requests running or waiting. */
    public int depth() {
        return size - places.availablePermits();
    }

    @Override
    public void close() {
        model.shutdownNow();
    }
}
