package dev.finadvisor.feature.sink;

import dev.finadvisor.feature.process.Chunker;
import dev.finadvisor.retrieval.Embedder;

import java.io.Serializable;

/**
 * How the sink works: chunk size in word pieces (0: the model's own window) and overlap, how many
 * chunks it embeds in one batch (across articles) and how long it waits to fill one, how often it
 * commits the store (what makes articles searchable to other processes), where dead letters and the
 * metrics file go, and how often metrics are logged.
 */
public record SinkSettings(
        int chunkTokens,
        int overlapTokens,
        int batchChunks,
        long batchWaitMillis,
        long commitIntervalMillis,
        String deadLetterFile,
        String metricsFile,
        long logIntervalMillis) implements Serializable {

    /** The chunker for {@code embedder}: chunks of {@code chunkTokens} word pieces (0: the model's window) with the overlap. */
    public Chunker chunker(Embedder embedder) {
        int window = chunkTokens > 0 ? Math.min(chunkTokens, embedder.maxTokens()) : embedder.maxTokens();
        return new Chunker(embedder, window, overlapTokens);
    }
}
