package dev.finadvisor.inference.server;

import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Admission to the model: {@code atOnce} generations run together (the generator's batch: see
 * {@code TextGenerator.maxBatch}), at most {@code capacity} more wait, in arrival order. A request takes its place
 * ({@link #admit}) before any retrieval work, so a full queue answers 503 at once. Sizes are set when the model is
 * ready ({@link #start}).
 */
public final class GenerationQueue {
    private final int capacity;
    private volatile Semaphore places = new Semaphore(0);
    private volatile Semaphore running = new Semaphore(0);
    private volatile int atOnce = 1;
    private volatile int size;
    /** Exponential moving average of a generation's duration, for Retry-After. */
    private final AtomicLong averageMillis = new AtomicLong(1000);

    public GenerationQueue(int capacity) {
        this.capacity = capacity;
    }

    /** Opens the queue for a generator that runs {@code atOnce} generations together. */
    public void start(int atOnce) {
        this.atOnce = atOnce;
        this.running = new Semaphore(atOnce, true);
        this.places = new Semaphore(atOnce + capacity, true);
        this.size = atOnce + capacity;
    }

    /** A place in the queue; close it to give the place back. */
    public final class Ticket implements AutoCloseable {
        private final Semaphore places = GenerationQueue.this.places;
        private final Semaphore running = GenerationQueue.this.running;
        private boolean released;

        /**
         * Waits for one of the {@code atOnce} running slots, then runs {@code work} on this thread. While waiting,
         * {@code disconnected} is polled: a client that left gets {@link CancellationException}; after
         * {@code timeoutMillis} of waiting, {@link TimeoutException}. The work is expected to watch the same signal.
         */
        public <T> T run(Callable<T> work, BooleanSupplier disconnected, long timeoutMillis) throws Exception {
            long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
            while (!running.tryAcquire(50, TimeUnit.MILLISECONDS)) {
                if (disconnected.getAsBoolean()) throw new CancellationException("client disconnected");
                if (System.nanoTime() > deadline) throw new TimeoutException("no model slot within " + timeoutMillis + " ms");
            }
            long t0 = System.nanoTime();
            try {
                return work.call();
            } finally {
                running.release();
                long ms = (System.nanoTime() - t0) / 1_000_000;
                averageMillis.updateAndGet(avg -> (avg * 7 + ms) / 8);
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

    /**
     * A place, or 503 with Retry-After when every place is taken: the generations ahead, {@code atOnce} at a time, each
     * as long as the recent average.
     */
    public Ticket admit() {
        if (!places.tryAcquire()) {
            long rounds = (size + atOnce - 1) / atOnce;
            long seconds = Math.max(1, (averageMillis.get() * rounds + 999) / 1000);
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
}
