package dev.finadvisor.feature.sink;

import dev.finadvisor.retrieval.StoreConfig;
import dev.finadvisor.retrieval.VectorStore;
import dev.finadvisor.retrieval.VectorStores;
import java.nio.file.Path;

/**
 * Opens the store a {@link StoreConfig} names, for writing, where the sink runs. Keeps the config
 * as plain values because {@code Path} is not serializable and the opener travels with the job.
 */
public record ConfiguredStore(String type, String path, String url, String collection, int batchSize, int maxRetries,
                              int hnswMaxConn, int hnswBeamWidth, int candidates, int candidatesPerMillion, boolean pruneAcrossSegments,
                              int dimension)
        implements StoreOpener {

    public static ConfiguredStore of(StoreConfig config, int dimension) {
        return new ConfiguredStore(config.type(), config.path() == null ? null : config.path().toString(), config.url(),
                config.collection(), config.batchSize(), config.maxRetries(), config.hnswMaxConn(), config.hnswBeamWidth(),
                config.candidates(), config.candidatesPerMillion(), config.pruneAcrossSegments(), dimension);
    }

    public StoreConfig config() {
        return new StoreConfig(type, path == null ? null : Path.of(path), url, collection, batchSize, maxRetries,
                hnswMaxConn, hnswBeamWidth, candidates, candidatesPerMillion, pruneAcrossSegments);
    }

    /** Qdrant takes upserts from many clients at once; a Lucene index has one writer. */
    @Override
    public boolean takesParallelWriters() {
        return "qdrant".equals(type);
    }

    @Override
    public VectorStore open() {
        return VectorStores.openForWriting(config(), dimension);
    }
}
