package dev.finadvisor.feature.sink;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A news message after parsing, validation and HTML cleaning: either a valid article (its JSON and
 * cleaned body) or a dead letter (the raw message and the reason it was refused). One flat record
 * so Flink serializes it as a POJO between operators. When the job embeds in parallel subtasks, an
 * article also carries its chunks and their vectors (one after another in {@code vectors}); else both are null.
 */
public record PreparedNews(String origin, long receivedAtMillis, String articleJson, String body, String deadLetterReason,
                           List<String> chunks, float[] vectors) {
    public static PreparedNews article(String origin, long receivedAtMillis, String articleJson, String body) {
        return new PreparedNews(origin, receivedAtMillis, articleJson, body, null, null, null);
    }

    /** A refused message: {@code raw} is kept verbatim in {@code articleJson}. */
    public static PreparedNews deadLetter(String origin, long receivedAtMillis, String raw, String reason) {
        return new PreparedNews(origin, receivedAtMillis, raw, null, reason, null, null);
    }

    /** This article with its chunks and their vectors. */
    public PreparedNews embedded(List<String> chunkTexts, List<float[]> chunkVectors) {
        int dimension = chunkVectors.isEmpty() ? 0 : chunkVectors.get(0).length;
        float[] flat = new float[chunkVectors.size() * dimension];
        for (int i = 0; i < chunkVectors.size(); i++) System.arraycopy(chunkVectors.get(i), 0, flat, i * dimension, dimension);
        return new PreparedNews(origin, receivedAtMillis, articleJson, null, deadLetterReason, List.copyOf(chunkTexts), flat); // the body is in the chunks
    }

    public boolean isEmbedded() {
        return vectors != null;
    }

    /** The vector of each chunk. */
    public List<float[]> chunkVectors() {
        int dimension = chunks.isEmpty() ? 0 : vectors.length / chunks.size();
        List<float[]> out = new ArrayList<>(chunks.size());
        for (int i = 0; i < chunks.size(); i++) out.add(Arrays.copyOfRange(vectors, i * dimension, (i + 1) * dimension));
        return out;
    }

    public boolean isDeadLetter() {
        return deadLetterReason != null;
    }
}
