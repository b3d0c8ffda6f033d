package dev.finadvisor.llm;

import ai.djl.pytorch.jni.JniUtils;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.model.KvCache;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.BooleanSupplier;

/**
 * Continuous batching: generations from many threads run on one model thread, decoded together. Each step takes one
 * new token for every running sequence in one pass over the weights ({@code CausalLM.decode(int[], KvCache[])}), so n
 * sequences cost little more than one; a request joins the running batch as soon as its prompt is read and leaves it
 * when it finishes, without waiting for the others. A prompt is read in chunks of {@code prefillChunk} tokens, one
 * chunk between two decode steps, so a long prompt does not stall the others' decoding for its whole length.
 *
 * <p>Each sequence has its own KV cache; all of them together stay within {@code kvCacheBytes}: a request that cannot
 * get its cache yet waits, in arrival order. A sequence's tokens do not depend on the others it ran beside: its logits
 * are computed alone (see JavaDecode) and it samples with its own seeded generator.
 */
public final class BatchedGenerator implements AutoCloseable {
    /** At most {@code maxBatch} sequences decode together; their caches hold at most {@code kvCacheBytes}; 0 chunk = whole prompts. */
    public record Limits(int maxBatch, long kvCacheBytes, int prefillChunk) {
        public Limits {
            if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be at least 1");
            if (kvCacheBytes < 1) throw new IllegalArgumentException("kvCacheBytes must be positive");
            if (prefillChunk < 0) throw new IllegalArgumentException("prefillChunk must not be negative");
        }
    }

    /** A request and where it stands; its cache and pending token belong to the model thread. */
    private static final class Job {
        final SequenceGeneration sequence;
        final long kvBytes;
        final int adapter;
        final CompletableFuture<GenerationResult> done = new CompletableFuture<>();
        KvCache cache;
        int prefilled;
        int pending = -1;

        Job(SequenceGeneration sequence, long kvBytes, int adapter) {
            this.sequence = sequence;
            this.kvBytes = kvBytes;
            this.adapter = adapter;
        }
    }

    private final LanguageModel model;
    private final Limits limits;
    /** Decode steps taken, by batch size. */
    private final AtomicLongArray steps;
    private final ArrayDeque<Job> waiting = new ArrayDeque<>();
    private final List<Job> running = new ArrayList<>();
    private long kvInUse;
    private long kvPeak;
    private boolean closed;
    private final Thread thread;

    public BatchedGenerator(LanguageModel model, Limits limits) {
        this.model = model;
        this.limits = limits;
        this.steps = new AtomicLongArray(limits.maxBatch() + 1);
        this.thread = new Thread(this::loop, "model");
        thread.setDaemon(true);
        thread.start();
    }

    public Limits limits() {
        return limits;
    }

    /**
     * As {@link LanguageModel#generate}, beside the other requests; blocks until this one has finished. {@code onToken}
     * is called on the model thread: it must not block.
     */
    public GenerationResult generate(int[] promptIds, GenerationConfig config, TokenListener onToken, BooleanSupplier cancelled) {
        try {
            return submit(promptIds, config, onToken, cancelled, 0).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while generating", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException(e.getCause());
        }
    }

    /**
     * Queues a generation with served adapter {@code adapter} (0: the model as loaded; see {@code LoraLayers.applyAll})
     * and returns at once: the future completes when it has finished. {@code onToken} is called on
     * the model thread, so it must not block (a caller streaming to a network client hands the text to its own thread).
     */
    public CompletableFuture<GenerationResult> submit(int[] promptIds, GenerationConfig config, TokenListener onToken,
                                                     BooleanSupplier cancelled, int adapter) {
        if (adapter < 0) throw new IllegalArgumentException("adapter " + adapter + " is negative");
        SequenceGeneration sequence = model.sequence(promptIds, config, onToken, cancelled);
        long bytes = model.kvCacheBytes(sequence.cachePositions());
        if (bytes > limits.kvCacheBytes()) {
            throw new UserError("the prompt (" + promptIds.length + " tokens) and max_new_tokens (" + config.maxNewTokens() + ") need "
                    + mib(bytes) + " MiB of KV cache, more than the " + mib(limits.kvCacheBytes()) + " MiB all sequences share; "
                    + "shorten the prompt or lower max_new_tokens to at most " + Math.max(0, maxPositions() - promptIds.length));
        }
        Job job = new Job(sequence, bytes, adapter);
        synchronized (this) {
            if (closed) throw new IllegalStateException("the model was closed");
            waiting.add(job);
            notifyAll();
        }
        return job.done;
    }

    /** The longest sequence (prompt and new tokens) the cache budget holds alone, within the model's context. */
    public int maxPositions() {
        long perPosition = model.kvCacheBytes(1);
        return (int) Math.min(model.config().maxPositions(), limits.kvCacheBytes() / perPosition);
    }

    /** Bytes of KV cache the running sequences hold now. */
    public synchronized long kvCacheBytesInUse() {
        return kvInUse;
    }

    /** The most KV cache bytes the running sequences held at once. */
    public synchronized long kvCacheBytesPeak() {
        return kvPeak;
    }

    /** Decode steps taken so far, by batch size (index 0 unused). */
    public long[] stepsBySize() {
        long[] out = new long[steps.length()];
        for (int i = 0; i < out.length; i++) out[i] = steps.get(i);
        return out;
    }

    /** Sequences decoding or reading their prompt now. */
    public synchronized int running() {
        return running.size();
    }

    private static long mib(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20;
    }

    // ---- the model thread ----

    private void loop() {
        Throwable died = new IllegalStateException("the model was closed");
        try {
            // libtorch's grad mode is per thread and on in a new one (DJL turns it off on the thread that starts the
            // engine): on, a pass keeps every layer's intermediates for a backward that never comes (DecoderPass.recorded).
            JniUtils.setGradMode(false);
            while (true) {
                synchronized (this) {
                    while (!closed && running.isEmpty() && waiting.isEmpty()) wait();
                    if (closed) return;
                    admit();
                }
                prefillOne();
                decodeStep();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            died = new IllegalStateException("the model thread failed: " + e, e);
            throw e;
        } finally {
            // whatever ends the loop, no request waits for it: those running or waiting fail, later ones are refused
            synchronized (this) {
                closed = true;
                failAll(died);
            }
        }
    }

    /** Moves waiting requests into the batch while there is room and cache: in arrival order; a cancelled one ends here. */
    private void admit() {
        for (var it = waiting.iterator(); it.hasNext(); ) {
            Job job = it.next();
            if (job.sequence.cancelled()) {
                it.remove();
                job.sequence.end("cancelled");
                job.done.complete(job.sequence.result());
            }
        }
        while (!waiting.isEmpty() && running.size() < limits.maxBatch() && kvInUse + waiting.peek().kvBytes <= limits.kvCacheBytes()) {
            Job job = waiting.poll();
            kvInUse += job.kvBytes;
            kvPeak = Math.max(kvPeak, kvInUse);
            running.add(job);
        }
    }

    /** Reads the next chunk of the oldest prompt not yet read; when it is whole, its first token is picked. */
    private void prefillOne() {
        Job job = null;
        for (Job j : running) {
            if (j.cache == null || j.prefilled < j.sequence.prompt().length) {
                job = j;
                break;
            }
        }
        if (job == null) return;
        SequenceGeneration s = job.sequence;
        try {
            if (s.cancelled()) {
                s.end("cancelled");
                finish(job, null);
                return;
            }
            if (job.cache == null) job.cache = model.model().newCache(1, s.cachePositions()).useAdapter(job.adapter);
            int length = s.prompt().length;
            int to = limits.prefillChunk() == 0 ? length : Math.min(length, job.prefilled + limits.prefillChunk());
            long t0 = System.nanoTime();
            float[] logits = model.prefill(s.prompt(), job.prefilled, to, job.cache);
            s.prefilled(System.nanoTime() - t0);
            job.prefilled = to;
            if (to == length) {
                job.pending = s.finished() ? -1 : s.next(logits);
                if (job.pending < 0) finish(job, null);
            }
        } catch (RuntimeException | Error e) {
            finish(job, e);
        }
    }

    /** One decode step for every sequence with a token to feed. */
    private void decodeStep() {
        List<Job> batch = new ArrayList<>();
        for (Job j : running) if (j.pending >= 0) batch.add(j);
        if (batch.isEmpty()) return;
        int[] tokens = new int[batch.size()];
        KvCache[] caches = new KvCache[batch.size()];
        for (int b = 0; b < tokens.length; b++) {
            tokens[b] = batch.get(b).pending;
            caches[b] = batch.get(b).cache;
        }
        long t0 = System.nanoTime();
        float[][] logits;
        try {
            logits = model.model().decode(tokens, caches);
        } catch (RuntimeException | Error e) {
            for (Job job : batch) finish(job, e); // the step failed: the sequences in it end, those reading their prompt go on
            return;
        }
        long nanos = System.nanoTime() - t0;
        steps.incrementAndGet(tokens.length);
        for (int b = 0; b < tokens.length; b++) {
            Job job = batch.get(b);
            job.sequence.decoded(nanos);
            try {
                job.pending = job.sequence.next(logits[b]);
                if (job.pending < 0) finish(job, null);
            } catch (RuntimeException | Error e) {
                finish(job, e); // its sampling or listener failed: the others go on
            }
        }
    }

    /** Takes a job out of the batch, frees its cache, and completes it with its result or {@code failure}. */
    private void finish(Job job, Throwable failure) {
        synchronized (this) {
            if (!running.remove(job)) return;
            kvInUse -= job.kvBytes;
        }
        if (job.cache != null) job.cache.close();
        if (failure != null) {
            job.done.completeExceptionally(failure);
            return;
        }
        try {
            job.done.complete(job.sequence.result());
        } catch (RuntimeException | Error e) {
            job.done.completeExceptionally(e);
        }
    }

    private void failAll(Throwable failure) {
        for (Job job : waiting) job.done.completeExceptionally(failure);
        waiting.clear();
        for (Job job : new ArrayList<>(running)) {
            running.remove(job);
            if (job.cache != null) job.cache.close();
            job.done.completeExceptionally(failure);
        }
    }

    /** Stops the model thread after its current step; requests still running or waiting fail. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
