package dev.finadvisor.feature.sink;

import dev.finadvisor.domain.news.NewsArticle;
import dev.finadvisor.feature.process.ArticleIndexer;
import dev.finadvisor.feature.process.InvalidArticle;
import dev.finadvisor.feature.process.NewsParser;
import dev.finadvisor.retrieval.Embedder;
import dev.finadvisor.retrieval.VectorStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.operators.ProcessingTimeService;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.groups.SinkWriterMetricGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes prepared news into the store and the dead-letter file; see {@link IngestSink}.
 *
 * <p>The model runs on a thread of its own ("embedder"), a batch or two ahead of the task thread:
 * while it embeds one batch, the task thread parses, cleans, chunks and plans the next articles and
 * writes and commits the batches already embedded. With everything else in line behind it on the
 * same thread the model idled while the job did the rest; overlapped, the model is the bottleneck
 * (ONNX Runtime spreads each call over every core: 1.99 of 2 cores busy during calls, measured).
 * A batch goes to the model when it holds {@code batchChunks} chunks, or at once when the model is idle. Batches are written in the order they were planned, and a checkpoint waits for
 * every batch in flight, so what a checkpoint covers is in the store, as before.
 */
final class IngestWriter implements SinkWriter<PreparedNews> {
    private static final Logger log = LoggerFactory.getLogger(IngestWriter.class);
    /** Batches handed to the embedder and not yet written: one embedding, one waiting, so it never idles. */
    static final int MAX_IN_FLIGHT = 2;
    /** How often the task thread looks for embedded batches to write when no article arrives to prompt it. */
    private static final long POLL_MILLIS = 5;
    /** How long close() waits for a running model call before leaving the model open rather than freeing it under the call. */
    private static final long CLOSE_WAIT_SECONDS = 120;

    /** A batch handed to the embedder: its articles, when each was received, and the vectors to come. */
    private record InFlight(List<ArticleIndexer.Planned> batch, List<Long> receivedAt, Future<List<float[]>> vectors) {}

    private final VectorStore store;
    private final Embedder embedder;
    private final ArticleIndexer indexer;
    private final DeadLetterFile deadLetters;
    private final IngestMetrics metrics = new IngestMetrics();
    private final SinkSettings settings;
    private final ProcessingTimeService time;
    private final Path metricsFile;
    /** This writer's number among the job's parallel writers (0 when there is one). */
    private final int writer;
    private final Counter articlesCounter, chunksCounter, deadLetterCounter;
    private final List<Long> uncommittedReceivedAt = new ArrayList<>();
    private final List<ArticleIndexer.Planned> batch = new ArrayList<>();
    private final List<Long> batchReceivedAt = new ArrayList<>();
    private int batchChunks;
    private boolean batchTimerSet;
    private long lastCommit;
    private boolean commitTimerSet;
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
    private boolean pollTimerSet;
    private final ExecutorService embedThread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "embedder");
        t.setDaemon(true);
        return t;
    });

    IngestWriter(VectorStore store, Embedder embedder, SinkSettings settings, WriterInitContext context) throws IOException {
        this.store = store;
        this.embedder = embedder;
        this.settings = settings;
        this.indexer = new ArticleIndexer(embedder, store, embedder == null ? null : settings.chunker(embedder)); // null: news arrives embedded
        this.deadLetters = new DeadLetterFile(Path.of(settings.deadLetterFile()));
        this.metricsFile = settings.metricsFile() == null ? null : Path.of(settings.metricsFile());
        this.time = context.getProcessingTimeService();
        this.writer = context.getTaskInfo().getIndexOfThisSubtask();
        SinkWriterMetricGroup group = context.metricGroup();
        articlesCounter = group.counter("articles");
        chunksCounter = group.counter("chunks");
        deadLetterCounter = group.counter("deadLetters");
        group.gauge("freshnessP50Ms", (Gauge<Long>) () -> metrics.freshnessQuantile(0.5));
        group.gauge("freshnessP99Ms", (Gauge<Long>) () -> metrics.freshnessQuantile(0.99));
        lastCommit = time.getCurrentProcessingTime();
        scheduleReport();
    }

    @Override
    public void write(PreparedNews news, Context context) throws IOException {
        long now = System.currentTimeMillis();
        metrics.onReceived(now);
        writeEmbedded(false);
        if (news.isDeadLetter()) {
            if (deadLetters.add(news.origin(), news.deadLetterReason(), news.receivedAtMillis(), news.articleJson())) {
                metrics.onDeadLetter(now);
                deadLetterCounter.inc();
                log.warn("dead letter from {}: {}", news.origin(), news.deadLetterReason());
            }
        } else {
            NewsArticle article;
            try {
                article = NewsParser.parse(news.articleJson());
            } catch (InvalidArticle e) {
                throw new IllegalStateException("an article that passed validation no longer parses: " + e.getMessage(), e);
            }
            if (news.isEmbedded()) { // parallel subtasks chunked and embedded it: only the store's check and the write are left
                writeEmbeddedArticle(article, news, now);
                maybeCommit();
                return;
            }
            if (embedder == null) throw new IllegalStateException("article " + article.id() + " reached a writer without a model unembedded");
            // A second version of an article not yet written must see the first one stored.
            if (pending(article.id())) {
                submitBatch();
                writeEmbedded(true);
            }
            Optional<ArticleIndexer.Planned> planned = indexer.plan(article, news.body());
            if (planned.isEmpty()) {
                metrics.onArticle(new ArticleIndexer.Outcome(ArticleIndexer.Action.UNCHANGED, 0), now);
                articlesCounter.inc();
            } else {
                batch.add(planned.get());
                batchReceivedAt.add(news.receivedAtMillis());
                batchChunks += planned.get().chunks().size();
                // A full batch goes to the model; so does a partial one when the model has nothing to do
                // (the job's first article, a quiet stream): waiting to fill it would only idle the model.
                if (batchChunks >= settings.batchChunks() || inFlight.isEmpty()) {
                    submitBatch();
                } else if (!batchTimerSet) {
                    // A quiet stream must not hold an article back: write what there is after a short wait.
                    batchTimerSet = true;
                    time.registerTimer(time.getCurrentProcessingTime() + settings.batchWaitMillis(), t -> {
                        batchTimerSet = false;
                        submitBatch();
                        maybeCommit();
                    });
                }
            }
        }
        maybeCommit();
    }

    private void writeEmbeddedArticle(NewsArticle article, PreparedNews news, long now) {
        Optional<ArticleIndexer.Planned> planned = indexer.plan(article, news.chunks());
        ArticleIndexer.Outcome outcome = planned.isEmpty() ? new ArticleIndexer.Outcome(ArticleIndexer.Action.UNCHANGED, 0)
                : indexer.write(List.of(planned.get()), news.chunkVectors()).get(0);
        metrics.onArticle(outcome, now);
        articlesCounter.inc();
        chunksCounter.inc(outcome.chunks());
        if (planned.isPresent()) uncommittedReceivedAt.add(news.receivedAtMillis());
    }

    /** Whether an article with this id is planned or being embedded, i.e. not yet in the store. */
    private boolean pending(long articleId) {
        for (ArticleIndexer.Planned p : batch) if (p.article().id() == articleId) return true;
        for (InFlight f : inFlight) {
            for (ArticleIndexer.Planned p : f.batch()) if (p.article().id() == articleId) return true;
        }
        return false;
    }

    /** Hands the batch to the embedder (after writing the oldest batch if {@value #MAX_IN_FLIGHT} are in flight). */
    private void submitBatch() throws IOException {
        if (batch.isEmpty()) return;
        while (inFlight.size() >= MAX_IN_FLIGHT) writeOldest();
        List<ArticleIndexer.Planned> planned = List.copyOf(batch);
        inFlight.add(new InFlight(planned, List.copyOf(batchReceivedAt), embedThread.submit(() -> indexer.embed(planned))));
        batch.clear();
        batchReceivedAt.clear();
        batchChunks = 0;
        schedulePoll();
    }

    /** Writes every batch already embedded, in order; with {@code all}, waits for the rest and writes them too. */
    private void writeEmbedded(boolean all) throws IOException {
        while (!inFlight.isEmpty() && (all || inFlight.peek().vectors().isDone())) writeOldest();
    }

    /** Waits for the oldest batch's vectors and writes its articles. */
    private void writeOldest() throws IOException {
        InFlight oldest = inFlight.peek();
        List<float[]> vectors;
        try {
            vectors = oldest.vectors().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the embedding model (the task is being cancelled)", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw new IOException("embedding a batch of " + oldest.batch().size() + " articles failed", e.getCause());
        }
        inFlight.poll();
        List<ArticleIndexer.Outcome> outcomes = indexer.write(oldest.batch(), vectors);
        long now = System.currentTimeMillis();
        for (int i = 0; i < outcomes.size(); i++) {
            metrics.onArticle(outcomes.get(i), now);
            articlesCounter.inc();
            chunksCounter.inc(outcomes.get(i).chunks());
            uncommittedReceivedAt.add(oldest.receivedAt().get(i));
        }
    }

    /** While batches are in flight, looks every few milliseconds for embedded ones to write and commit. */
    private void schedulePoll() {
        if (pollTimerSet || inFlight.isEmpty()) return;
        pollTimerSet = true;
        time.registerTimer(time.getCurrentProcessingTime() + POLL_MILLIS, t -> {
            pollTimerSet = false;
            writeEmbedded(false);
            if (inFlight.isEmpty()) submitBatch(); // the model is done: give it what has gathered meanwhile
            maybeCommit();
            schedulePoll();
        });
    }

    /** Commits now if the last commit is old enough, else makes sure a timer will. */
    private void maybeCommit() throws IOException {
        if (uncommittedReceivedAt.isEmpty()) return;
        long now = time.getCurrentProcessingTime();
        if (now - lastCommit >= settings.commitIntervalMillis()) {
            commit();
        } else if (!commitTimerSet) {
            commitTimerSet = true;
            time.registerTimer(lastCommit + settings.commitIntervalMillis(), t -> {
                commitTimerSet = false;
                maybeCommit();
            });
        }
    }

    private void commit() throws IOException {
        store.commit();
        long now = System.currentTimeMillis();
        for (long receivedAt : uncommittedReceivedAt) metrics.onSearchable(now - receivedAt);
        uncommittedReceivedAt.clear();
        lastCommit = time.getCurrentProcessingTime();
    }

    private void scheduleReport() {
        time.registerTimer(time.getCurrentProcessingTime() + settings.logIntervalMillis(), t -> {
            report();
            scheduleReport();
        });
    }

    private void report() throws IOException {
        long now = System.currentTimeMillis();
        log.info(metrics.line(now));
        if (metricsFile != null) metrics.writeTo(metricsFile, writer, now, true);
    }

    @Override
    public void flush(boolean endOfInput) throws IOException {
        submitBatch();
        writeEmbedded(true);
        commit(); // every checkpoint: what it covers is durable in the store
        if (endOfInput) report();
    }

    @Override
    public void close() throws Exception {
        // Batches still in flight were not covered by a checkpoint: a restarted job replays them.
        embedThread.shutdownNow();
        boolean modelIdle = awaitUninterruptibly(embedThread, CLOSE_WAIT_SECONDS);
        // The last report says this writer stopped. Flink cancels by interrupting this thread, which would fail the file
        // lock and the write: the flag is cleared for them and set again after.
        boolean interrupted = Thread.interrupted();
        try {
            if (metricsFile != null) metrics.writeTo(metricsFile, writer, System.currentTimeMillis(), false);
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
            try {
                store.close();
            } finally {
                // Freeing ONNX Runtime's session under a running call would crash the JVM: leak it instead.
                if (!modelIdle) {
                    log.warn("the embedding model is still busy after {} s; leaving it open", CLOSE_WAIT_SECONDS);
                } else if (embedder instanceof AutoCloseable c) {
                    c.close();
                }
            }
        }
    }

    /** Waits for the executor's running task to end, even when this thread is interrupted (Flink cancels by interrupting). */
    private static boolean awaitUninterruptibly(ExecutorService executor, long seconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return executor.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }
}
