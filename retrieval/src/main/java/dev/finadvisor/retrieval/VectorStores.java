package dev.finadvisor.retrieval;

/** Opens the vector store a {@link StoreConfig} names: the one place that knows every kind. */
public final class VectorStores {
    private VectorStores() {}

    /** For ingestion: creates the index or collection when missing. */
    public static VectorStore openForWriting(StoreConfig config, int dimension) {
        return switch (config.type()) {
            case "lucene" -> LuceneVectorStore.open(config.path(), dimension);
            default -> throw unknown(config);
        };
    }

    /**
     * For searching: never creates anything, and (Lucene) takes no write lock, so it runs beside an
     * ingesting process and follows its commits.
     */
    public static VectorStore openForSearch(StoreConfig config, int dimension) {
        return switch (config.type()) {
            case "lucene" -> {
                LuceneVectorStore store = LuceneVectorStore.openReadOnly(config.path());
                if (store.dimension() != dimension) {
                    store.close();
                    throw new dev.finadvisor.domain.UserError(config.path() + ": holds " + store.dimension()
                            + "-d vectors but the embedding model makes " + dimension + "-d ones");
                }
                yield store;
            }
            default -> throw unknown(config);
        };
    }

    private static IllegalArgumentException unknown(StoreConfig config) {
        return new IllegalArgumentException("store.type '" + config.type() + "' is not one of " + StoreConfig.TYPES);
    }
}
