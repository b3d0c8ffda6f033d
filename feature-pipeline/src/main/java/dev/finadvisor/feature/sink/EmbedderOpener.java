package dev.finadvisor.feature.sink;

import dev.finadvisor.retrieval.Embedder;
import java.io.Serializable;

/** Loads the embedding model where the job runs (it travels with the job, so it must be serializable). */
@FunctionalInterface
public interface EmbedderOpener extends Serializable {
    /** The model, running each call on {@code threads} threads (0: the library's default, every core). */
    Embedder open(int threads) throws Exception;
}
