package dev.finadvisor.retrieval;

import java.time.Instant;
import java.util.List;

/**
 * What a vector-store point carries: its own chunk's text (never another chunk's) and the
 * article's metadata, so a hit can be shown and cited without another lookup.
 */
public record ChunkPayload(
        long articleId,
        int chunkIndex,
        String text,
        String headline,
        String summary,
        String url,
        List<String> symbols,
        String source,
        String author,
        Instant createdAt,
        Instant updatedAt) {

    public ChunkPayload {
        symbols = symbols == null ? List.of() : List.copyOf(symbols);
    }

    /** The point id: deterministic from article id and chunk index, so re-ingesting overwrites. */
    public String pointId() {
        return pointId(articleId, chunkIndex);
    }

    public static String pointId(long articleId, int chunkIndex) {
        return articleId + "#" + chunkIndex;
    }
}
