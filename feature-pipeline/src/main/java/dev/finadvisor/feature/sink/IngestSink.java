package dev.finadvisor.feature.sink;

import java.io.IOException;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * The job's sink (Sink V2): chunks, embeds and upserts each article into the vector store, writes
 * dead letters, commits on every checkpoint and at least every {@code commitIntervalMillis}, and
 * keeps the metrics. Idempotent upserts make replays after a restore no-ops.
 */
public final class IngestSink implements Sink<PreparedNews> {
    private static final long serialVersionUID = 1L;

    private final StoreOpener store;
    private final EmbedderOpener embedder;
    private final SinkSettings settings;

    /** Whether the writer embeds (false: the news arrives embedded by parallel subtasks, and no model is loaded here). */
    private final boolean embeds;

    public IngestSink(StoreOpener store, EmbedderOpener embedder, SinkSettings settings) {
        this(store, embedder, settings, true);
    }

    private IngestSink(StoreOpener store, EmbedderOpener embedder, SinkSettings settings, boolean embeds) {
        this.store = store;
        this.embedder = embedder;
        this.settings = settings;
        this.embeds = embeds;
    }

    /** This sink for news embedded before it: it checks and writes, with no model of its own. */
    public IngestSink writingOnly() {
        return new IngestSink(store, embedder, settings, false);
    }

    /** The model the sink embeds with, for subtasks that embed before it (the same model, so the same vectors). */
    public EmbedderOpener embedder() {
        return embedder;
    }

    /** Whether the store takes writes from several of the sink's subtasks at once. */
    public boolean takesParallelWriters() {
        return store.takesParallelWriters();
    }

    public SinkSettings settings() {
        return settings;
    }

    @Override
    public SinkWriter<PreparedNews> createWriter(WriterInitContext context) throws IOException {
        try {
            return new IngestWriter(new UninterruptibleStore(store.open()), embeds ? embedder.open(0) : null, settings, context);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException("cannot open the vector store or the embedding model: " + e.getMessage(), e);
        }
    }
}
