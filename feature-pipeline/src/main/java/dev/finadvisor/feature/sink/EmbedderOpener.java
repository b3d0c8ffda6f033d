package dev.finadvisor.feature.sink;

import dev.finadvisor.retrieval.Embedder;
import java.io.Serializable;

/** Loads the embedding model where the sink runs (it travels with the job, so it must be serializable). */
@FunctionalInterface
public interface EmbedderOpener extends Serializable {
    Embedder open() throws Exception;
}
