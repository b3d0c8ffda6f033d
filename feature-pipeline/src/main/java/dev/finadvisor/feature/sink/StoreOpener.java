package dev.finadvisor.feature.sink;

import dev.finadvisor.retrieval.VectorStore;
import java.io.Serializable;

/** Opens the vector store where the sink runs (it travels with the job, so it must be serializable). */
@FunctionalInterface
public interface StoreOpener extends Serializable {
    VectorStore open() throws Exception;
}
