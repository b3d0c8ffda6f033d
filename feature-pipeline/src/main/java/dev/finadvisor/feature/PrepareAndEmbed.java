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
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.java.functions.KeySelector;

/**
 * The parallel half of the job ({@code flink.parallelism} above 1): parses, validates and cleans a message, then chunks
 * the article and embeds its chunks with a model of this subtask's own. Messages are keyed by article id, so every version
 * of an article goes through one subtask, in order, and reaches the store's writer in that order.
 */
final class PrepareAndEmbed extends RichMapFunction<IncomingNews, PreparedNews> {
    private static final long serialVersionUID = 1L;

    private final EmbedderOpener opener;
    private final SinkSettings settings;
    private transient Embedder embedder;
    private transient Chunker chunker;

    PrepareAndEmbed(EmbedderOpener opener, SinkSettings settings) {
        this.opener = opener;
        this.settings = settings;
    }

    @Override
    public void open(OpenContext context) throws Exception {
        embedder = opener.open();
        chunker = settings.chunker(embedder);
    }

    @Override
    public PreparedNews map(IncomingNews in) {
        PreparedNews prepared = PrepareNews.prepare(in);
        if (prepared.isDeadLetter()) return prepared;
        NewsArticle article;
        try {
            article = NewsParser.parse(prepared.articleJson());
        } catch (InvalidArticle e) {
            throw new IllegalStateException("an article that passed validation no longer parses: " + e.getMessage(), e);
        }
        List<String> chunks = ArticleIndexer.chunks(chunker, article, prepared.body());
        return prepared.embedded(chunks, chunks.isEmpty() ? List.of() : embedder.embedAll(chunks));
    }

    @Override
    public void close() throws Exception {
        if (embedder instanceof AutoCloseable c) c.close();
    }

    /** The article id of a message (-1 when it has none to read: such messages end as dead letters, all in one subtask). */
    static final class ArticleId implements KeySelector<IncomingNews, Long> {
        private static final long serialVersionUID = 1L;
        private static final ObjectMapper JSON = new ObjectMapper();

        @Override
        public Long getKey(IncomingNews in) {
            if (in.unreadable() != null) return -1L;
            try {
                JsonNode id = JSON.readTree(in.json()).get("id");
                return id != null && id.canConvertToLong() ? id.asLong() : -1L;
            } catch (Exception e) {
                return -1L;
            }
        }
    }
}
