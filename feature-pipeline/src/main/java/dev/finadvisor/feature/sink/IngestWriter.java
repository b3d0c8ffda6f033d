package dev.finadvisor.feature.sink;

import dev.finadvisor.domain.news.NewsArticle;
import dev.finadvisor.feature.process.ArticleIndexer;
import dev.finadvisor.feature.process.Chunker;
import dev.finadvisor.feature.process.InvalidArticle;
import dev.finadvisor.feature.process.NewsParser;
import dev.finadvisor.retrieval.Embedder;
import dev.finadvisor.retrieval.VectorStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.flink.api.common.operators.ProcessingTimeService;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.groups.SinkWriterMetricGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes prepared news into the store and the dead-letter file; see {@link IngestSink}. */
final class IngestWriter implements SinkWriter<PreparedNews> {
    private static final Logger log = LoggerFactory.getLogger(IngestWriter.class);

    private final VectorStore store;
    private final Embedder embedder;
    private final ArticleIndexer indexer;
    private final DeadLetterFile deadLetters;
    private final IngestMetrics metrics = new IngestMetrics();
    private final SinkSettings settings;
    private final ProcessingTimeService time;
    private final Path metricsFile;
    private final Counter articlesCounter, chunksCounter, deadLetterCounter;
    private final List<Long> uncommittedReceivedAt = new ArrayList<>();
    private final List<ArticleIndexer.Planned> batch = new ArrayList<>();
    private final List<Long> batchReceivedAt = new ArrayList<>();
    private int batchChunks;
    private boolean batchTimerSet;
    private long lastCommit;
    private boolean commitTimerSet;

    IngestWriter(VectorStore store, Embedder embedder, SinkSettings settings, WriterInitContext context) throws IOException {
        this.store = store;
        this.embedder = embedder;
        this.settings = settings;
        int window = settings.chunkTokens() > 0 ? Math.min(settings.chunkTokens(), embedder.maxTokens()) : embedder.maxTokens();
        this.indexer = new ArticleIndexer(embedder, store, new Chunker(embedder, window, settings.overlapTokens()));
        this.deadLetters = new DeadLetterFile(Path.of(settings.deadLetterFile()));
        this.metricsFile = settings.metricsFile() == null ? null : Path.of(settings.metricsFile());
        this.time = context.getProcessingTimeService();
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
            // A second version of an article already in the batch must see the first one stored.
            for (ArticleIndexer.Planned p : batch) {
                if (p.article().id() == article.id()) {
                    writeBatch();
                    break;
                }
            }
            Optional<ArticleIndexer.Planned> planned = indexer.plan(article, news.body());
            if (planned.isEmpty()) {
                metrics.onArticle(new ArticleIndexer.Outcome(ArticleIndexer.Action.UNCHANGED, 0), now);
                articlesCounter.inc();
            } else {
                batch.add(planned.get());
                batchReceivedAt.add(news.receivedAtMillis());
                batchChunks += planned.get().chunks().size();
                if (batchChunks >= settings.batchChunks()) {
                    writeBatch();
                } else if (!batchTimerSet) {
                    // A quiet stream must not hold an article back: write what there is after a short wait.
                    batchTimerSet = true;
                    time.registerTimer(time.getCurrentProcessingTime() + settings.batchWaitMillis(), t -> {
                        batchTimerSet = false;
                        writeBatch();
                        maybeCommit();
                    });
                }
            }
        }
        maybeCommit();
    }

    /** Embeds the batch's chunks in one call and writes its articles. */
    private void writeBatch() {
        if (batch.isEmpty()) return;
        List<ArticleIndexer.Outcome> outcomes = indexer.write(batch);
        long now = System.currentTimeMillis();
        for (int i = 0; i < outcomes.size(); i++) {
            metrics.onArticle(outcomes.get(i), now);
            articlesCounter.inc();
            chunksCounter.inc(outcomes.get(i).chunks());
            uncommittedReceivedAt.add(batchReceivedAt.get(i));
        }
        batch.clear();
        batchReceivedAt.clear();
        batchChunks = 0;
    }

    /** Commits now if the last commit is old enough, else makes sure a timer will. */
    private void maybeCommit() throws IOException {
        if (uncommittedReceivedAt.isEmpty()) {
            deadLetters.flush();
            return;
        }
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
        deadLetters.flush();
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
        if (metricsFile != null) metrics.writeTo(metricsFile, now);
    }

    @Override
    public void flush(boolean endOfInput) throws IOException {
        writeBatch();
        commit(); // every checkpoint: what it covers is durable in the store
        if (endOfInput) report();
    }

    @Override
    public void close() throws Exception {
        try {
            if (metricsFile != null) metrics.writeTo(metricsFile, System.currentTimeMillis());
            deadLetters.close();
        } finally {
            try {
                store.close();
            } finally {
                if (embedder instanceof AutoCloseable c) c.close();
            }
        }
    }
}
