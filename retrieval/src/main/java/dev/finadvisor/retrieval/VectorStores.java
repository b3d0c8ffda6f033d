package dev.finadvisor.retrieval;

import dev.finadvisor.domain.config.Secret;
import dev.finadvisor.domain.config.Secrets;

/** Opens the vector store a {@link StoreConfig} names: the one place that knows every kind. */
public final class VectorStores {
    private VectorStores() {}

    /** For ingestion: creates the index or collection when missing. */
    public static VectorStore openForWriting(StoreConfig config, int dimension) {
        return switch (config.type()) {
            case "lucene" -> LuceneVectorStore.open(config.path(), dimension, config.hnsw()).candidates(config.candidates())
                    .candidatesPerMillion(config.candidatesPerMillion()).pruneAcrossSegments(config.pruneAcrossSegments());
            case "qdrant" -> qdrant(config, dimension);
            default -> throw unknown(config);
        };
    }

    /**
     * For searching. Lucene: opens an existing index read-only (an error if there is none), without the
     * write lock, so it runs beside an ingesting process and follows its commits. Qdrant: connects as
     * for writing (an empty collection is created if missing; searches then find nothing).
     */
    public static VectorStore openForSearch(StoreConfig config, int dimension) {
        return switch (config.type()) {
            case "lucene" -> {
                LuceneVectorStore store = LuceneVectorStore.openReadOnly(config.path()).candidates(config.candidates())
                        .candidatesPerMillion(config.candidatesPerMillion()).pruneAcrossSegments(config.pruneAcrossSegments());
                if (store.dimension() != dimension) {
                    store.close();
                    throw new dev.finadvisor.domain.UserError(config.path() + ": holds " + store.dimension()
                            + "-d vectors but the embedding model makes " + dimension + "-d ones");
                }
                yield store;
            }
            case "qdrant" -> qdrant(config, dimension);
            default -> throw unknown(config);
        };
    }

    private static VectorStore qdrant(StoreConfig config, int dimension) {
        String apiKey = Secrets.fromEnvironment().get(Secrets.QDRANT_API_KEY).map(Secret::reveal).orElse(null);
        return QdrantVectorStore.connect(config, dimension, apiKey);
    }

    private static IllegalArgumentException unknown(StoreConfig config) {
        return new IllegalArgumentException("store.type '" + config.type() + "' is not one of " + StoreConfig.TYPES);
    }
}
