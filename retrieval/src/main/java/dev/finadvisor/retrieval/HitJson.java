package dev.finadvisor.retrieval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** Search hits as JSON, one shape for {@code search --json} and the server's {@code /v1/news/search}. */
public final class HitJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HitJson() {}

    /** Each hit: id, score, and the whole payload (times as ISO-8601). */
    public static ArrayNode of(List<Hit> hits) {
        ArrayNode array = JSON.createArrayNode();
        for (Hit h : hits) {
            ChunkPayload p = h.payload();
            ObjectNode n = array.addObject();
            n.put("id", h.id());
            n.put("score", h.score());
            n.put("article_id", p.articleId());
            n.put("chunk_index", p.chunkIndex());
            n.put("headline", p.headline());
            n.put("created_at", p.createdAt() == null ? null : p.createdAt().toString());
            n.put("updated_at", p.updatedAt() == null ? null : p.updatedAt().toString());
            ArrayNode symbols = n.putArray("symbols");
            p.symbols().forEach(symbols::add);
            n.put("url", p.url());
            n.put("source", p.source());
            n.put("author", p.author());
            n.put("summary", p.summary());
            n.put("text", p.text());
        }
        return array;
    }
}
