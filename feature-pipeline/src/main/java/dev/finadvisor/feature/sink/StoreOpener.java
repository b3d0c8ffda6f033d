package dev.finadvisor.feature.sink;

import dev.finadvisor.retrieval.VectorStore;
import java.io.Serializable;

/** Opens the vector store where the sink runs (it travels with the job, so it must be serializable). */
@FunctionalInterface
public interface StoreOpener extends Serializable {
    VectorStore open() throws Exception;

    /** Whether several writers may write into the store at once (a server's store; not an index in one directory). */
    default boolean takesParallelWriters() {
        return false;
    }
}
