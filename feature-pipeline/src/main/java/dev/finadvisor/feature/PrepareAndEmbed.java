package dev.finadvisor.feature;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.news.NewsArticle;
import dev.finadvisor.feature.process.ArticleIndexer;
import dev.finadvisor.feature.process.Chunker;
import dev.finadvisor.feature.process.InvalidArticle;
import dev.finadvisor.feature.process.NewsParser;
import dev.finadvisor.feature.sink.EmbedderOpener;
import dev.finadvisor.feature.sink.PreparedNews;
import dev.finadvisor.feature.sink.SinkSettings;
import dev.finadvisor.feature.source.IncomingNews;
import dev.finadvisor.retrieval.Embedder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

/**
 * The parallel half of the job ({@code flink.parallelism} above 1): parses, validates and cleans a message and chunks the
 * article on the task thread, while a model of this subtask's own embeds on a thread of its own, the chunks of as many
 * waiting articles as fit in {@code sink.batch_chunks} per call (one call per article would leave the model mostly idle
 * between tiny batches). Run through Flink's ordered async I/O, keyed by article id: every version of an article goes
 * through one subtask and leaves it in order, and the articles waiting for the model are part of each checkpoint.
 */
final class PrepareAndEmbed extends RichAsyncFunction<IncomingNews, PreparedNews> {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** An article waiting for its vectors. */
    private record Waiting(PreparedNews news, List<String> chunks, ResultFuture<PreparedNews> result) {}

    private final EmbedderOpener opener;
    private final SinkSettings settings;
    private transient Embedder embedder;
    private transient Chunker chunker;
    private transient LinkedBlockingQueue<Waiting> queue;
    private transient Thread model;

    PrepareAndEmbed(EmbedderOpener opener, SinkSettings settings) {
        this.opener = opener;
        this.settings = settings;
    }

    @Override
    public void open(OpenContext context) throws Exception {
        // The subtasks share the machine: each model gets its share of the cores (the sink's single model takes them all).
        int subtasks = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
        embedder = opener.open(Math.max(1, Runtime.getRuntime().availableProcessors() / subtasks));
        chunker = settings.chunker(embedder);
        queue = new LinkedBlockingQueue<>();
        model = new Thread(this::embedLoop, "embedder");
        model.setDaemon(true);
        model.start();
    }

    @Override
    public void asyncInvoke(IncomingNews in, ResultFuture<PreparedNews> result) {
        PreparedNews prepared = PrepareNews.prepare(in);
        if (prepared.isDeadLetter()) {
            result.complete(List.of(prepared));
            return;
        }
        NewsArticle article;
        try {
            article = NewsParser.parse(prepared.articleJson());
        } catch (InvalidArticle e) {
            result.completeExceptionally(new IllegalStateException("an article that passed validation no longer parses: " + e.getMessage(), e));
            return;
        }
        queue.add(new Waiting(prepared, ArticleIndexer.chunks(chunker, article, prepared.body()), result));
    }

    /** Takes what is waiting (up to a batch of chunks; an idle model takes what there is at once) and embeds it in one call. */
    private void embedLoop() {
        List<Waiting> batch = new ArrayList<>();
        while (!Thread.currentThread().isInterrupted()) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                return;
            }
            int chunks = batch.get(0).chunks().size();
            for (Waiting next; chunks < settings.batchChunks() && (next = queue.poll()) != null; chunks += next.chunks().size()) batch.add(next);
            List<String> texts = new ArrayList<>(chunks);
            for (Waiting w : batch) texts.addAll(w.chunks());
            try {
                List<float[]> vectors = texts.isEmpty() ? List.of() : embedder.embedAll(texts);
                int at = 0;
                for (Waiting w : batch) {
                    int n = w.chunks().size();
                    w.result().complete(List.of(w.news().embedded(w.chunks(), vectors.subList(at, at + n))));
                    at += n;
                }
            } catch (RuntimeException | Error e) {
                for (Waiting w : batch) w.result().completeExceptionally(e);
            }
            batch.clear();
        }
    }

    @Override
    public void close() throws Exception {
        boolean interrupted = false;
        if (model != null) {
            model.interrupt();
            // Flink interrupts a cancelled task's thread (again and again): wait for the model's call regardless.
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (model.isAlive() && System.nanoTime() < deadline) {
                try {
                    model.join(1_000);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        // Freeing the model under a running call would crash the JVM: leave it open if the call has not ended.
        if (embedder instanceof AutoCloseable c && (model == null || !model.isAlive())) c.close();
        if (interrupted) Thread.currentThread().interrupt();
    }

    /** The article id of a message (-1 when it has none to read: such messages end as dead letters, all in one subtask). */
    static final class ArticleId implements KeySelector<IncomingNews, Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public Long getKey(IncomingNews in) {
            return in.unreadable() != null ? -1L : idIn(in.json());
        }
    }

    /** The same key for the message once prepared (a dead letter keeps the raw message). */
    static final class PreparedArticleId implements KeySelector<PreparedNews, Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public Long getKey(PreparedNews news) {
            return idIn(news.articleJson());
        }
    }

    private static long idIn(String json) {
        try {
            JsonNode id = JSON.readTree(json).get("id");
            return id != null && id.canConvertToLong() ? id.asLong() : -1L;
        } catch (Exception e) {
            return -1L;
        }
    }
}
