package dev.finadvisor.retrieval;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.finadvisor.domain.config.Problems;
import dev.finadvisor.domain.config.Validated;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * The {@code store:} section of a job's configuration: which vector store and where.
 * <pre>
 * store:
 *   type: lucene            # lucene (embedded, default) | qdrant
 *   path: data/vector-store # lucene: the index directory
 *   url: http://localhost:6334   # qdrant: its gRPC endpoint (API key from QDRANT_API_KEY)
 *   collection: finadvisor_news  # qdrant: the collection
 *   batch_size: 256         # qdrant: points per upsert request
 *   max_retries: 3          # qdrant: retries of a failed request, with backoff
 *   hnsw_max_conn: 16       # lucene: HNSW neighbours per node, for segments written from now on
 *   hnsw_beam_width: 100    # lucene: HNSW beam while building, for segments written from now on
 *   candidates: 50          # lucene: HNSW candidates per search (at least k), the best k kept
 *   candidates_per_million: 200 # lucene: a segment of n points gets at least this * n / 1M candidates
 *   prune_across_segments: false # lucene: let segments stop early on each other's scores (faster, lower recall)
 * </pre>
 * Missing keys keep these defaults.
 */
public record StoreConfig(
        String type,
        Path path,
        String url,
        String collection,
        @JsonProperty("batch_size") int batchSize,
        @JsonProperty("max_retries") int maxRetries,
        @JsonProperty("hnsw_max_conn") int hnswMaxConn,
        @JsonProperty("hnsw_beam_width") int hnswBeamWidth,
        int candidates,
        @JsonProperty("candidates_per_million") int candidatesPerMillion,
        @JsonProperty("prune_across_segments") boolean pruneAcrossSegments) implements Validated {
    public static final List<String> TYPES = List.of("lucene", "qdrant");
    public static final StoreConfig DEFAULT = new StoreConfig("lucene", Path.of("data/vector-store"),
            "http://localhost:6334", "finadvisor_news", 256, 3);

    /** With the default HNSW graph and search settings. */
    public StoreConfig(String type, Path path, String url, String collection, int batchSize, int maxRetries) {
        this(type, path, url, collection, batchSize, maxRetries, LuceneVectorStore.HnswParameters.DEFAULT.maxConn(),
                LuceneVectorStore.HnswParameters.DEFAULT.beamWidth(), LuceneVectorStore.DEFAULT_CANDIDATES,
                LuceneVectorStore.DEFAULT_CANDIDATES_PER_MILLION, LuceneVectorStore.DEFAULT_PRUNE_ACROSS_SEGMENTS);
    }

    @JsonCreator
    public static StoreConfig of(@JsonProperty("type") String type, @JsonProperty("path") Path path,
                                 @JsonProperty("url") String url, @JsonProperty("collection") String collection,
                                 @JsonProperty("batch_size") Integer batchSize, @JsonProperty("max_retries") Integer maxRetries,
                                 @JsonProperty("hnsw_max_conn") Integer hnswMaxConn,
                                 @JsonProperty("hnsw_beam_width") Integer hnswBeamWidth,
                                 @JsonProperty("candidates") Integer candidates,
                                 @JsonProperty("candidates_per_million") Integer candidatesPerMillion,
                                 @JsonProperty("prune_across_segments") Boolean pruneAcrossSegments) {
        return new StoreConfig(type == null ? DEFAULT.type : type, path == null ? DEFAULT.path : path,
                url == null ? DEFAULT.url : url, collection == null ? DEFAULT.collection : collection,
                batchSize == null ? DEFAULT.batchSize : batchSize, maxRetries == null ? DEFAULT.maxRetries : maxRetries,
                hnswMaxConn == null ? DEFAULT.hnswMaxConn : hnswMaxConn,
                hnswBeamWidth == null ? DEFAULT.hnswBeamWidth : hnswBeamWidth,
                candidates == null ? DEFAULT.candidates : candidates,
                candidatesPerMillion == null ? DEFAULT.candidatesPerMillion : candidatesPerMillion,
                pruneAcrossSegments == null ? DEFAULT.pruneAcrossSegments : pruneAcrossSegments);
    }

    /** The HNSW graph parameters new Lucene segments are written with. */
    public LuceneVectorStore.HnswParameters hnsw() {
        return new LuceneVectorStore.HnswParameters(hnswMaxConn, hnswBeamWidth);
    }

    /**
     * Where {@code ingest} keeps its checkpoints, dead letters and {@code metrics.json} when no folder is given: beside
     * a Lucene store ({@code STORE.ingest}), or {@code data/COLLECTION.ingest} for Qdrant.
     */
    public Path ingestStateDir() {
        if ("lucene".equals(type)) {
            Path p = path.toAbsolutePath().normalize();
            return p.resolveSibling(p.getFileName() + ".ingest");
        }
        return Path.of("data", collection + ".ingest").toAbsolutePath();
    }

    public static StoreConfig lucene(Path path) {
        return new StoreConfig("lucene", path, DEFAULT.url, DEFAULT.collection, DEFAULT.batchSize, DEFAULT.maxRetries);
    }

    public static StoreConfig qdrant(String url, String collection) {
        return new StoreConfig("qdrant", DEFAULT.path, url, collection, DEFAULT.batchSize, DEFAULT.maxRetries);
    }

    @Override
    public void validate(Problems problems) {
        problems.requireOneOf("type", type, TYPES);
        if ("lucene".equals(type) && (path == null || path.toString().isBlank())) problems.add("path", "is missing or empty");
        if ("qdrant".equals(type)) {
            problems.requireNonBlank("collection", collection);
            try {
                URI u = URI.create(url);
                if (u.getHost() == null || !List.of("http", "https").contains(u.getScheme())) {
                    problems.add("url", "is '" + url + "', expected http://HOST:PORT or https://HOST:PORT (Qdrant's gRPC port, 6334 by default)");
                }
            } catch (IllegalArgumentException | NullPointerException e) {
                problems.add("url", "is '" + url + "', not a URL like http://localhost:6334");
            }
        }
        problems.requireRange("batch_size", batchSize, 1, 10_000);
        problems.requireRange("max_retries", maxRetries, 0, 20);
        problems.requireRange("hnsw_max_conn", hnswMaxConn, 2, LuceneVectorStore.HnswParameters.MAX_MAX_CONN);
        problems.requireRange("hnsw_beam_width", hnswBeamWidth, 1, LuceneVectorStore.HnswParameters.MAX_BEAM_WIDTH);
        problems.requireRange("candidates", candidates, 1, LuceneVectorStore.MAX_CANDIDATES);
        problems.requireRange("candidates_per_million", candidatesPerMillion, 0, LuceneVectorStore.MAX_CANDIDATES);
    }
}
