package dev.finadvisor.retrieval;

import static io.qdrant.client.ConditionFactory.matchKeywords;
import static io.qdrant.client.ConditionFactory.range;
import static io.qdrant.client.ValueFactory.value;

import com.google.common.util.concurrent.ListenableFuture;
import dev.finadvisor.domain.UserError;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.qdrant.client.ConditionFactory;
import io.qdrant.client.PointIdFactory;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import io.qdrant.client.VectorsFactory;
import io.qdrant.client.WithPayloadSelectorFactory;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Common.Filter;
import io.qdrant.client.grpc.Common.Range;
import io.qdrant.client.grpc.JsonWithInt.Value;
import io.qdrant.client.grpc.Points.FacetCounts;
import io.qdrant.client.grpc.Points.FacetHit;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import io.qdrant.client.grpc.Points.ScoredPoint;
import io.qdrant.client.grpc.Points.ScrollPoints;
import io.qdrant.client.grpc.Points.SearchPoints;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scale-out vector store: a Qdrant collection through the official gRPC client. The collection
 * (size = dimension, cosine) and payload indexes on {@code created_at} (integer, epoch ms),
 * {@code symbols} (keyword) and {@code article_id} (integer) are created when missing. Point ids are
 * UUIDs derived from article id and chunk index, so re-ingesting overwrites; the caller's string id
 * travels in the payload as {@code point_id}. Upserts go in batches, each retried with backoff when
 * the server is unavailable, and wait for the write to be applied, so a search after an upsert sees it.
 */
public final class QdrantVectorStore implements VectorStore {
    private static final Logger log = LoggerFactory.getLogger(QdrantVectorStore.class);
    private static final Set<Status.Code> TRANSIENT = Set.of(Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED,
            Status.Code.RESOURCE_EXHAUSTED, Status.Code.ABORTED);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    /** Facet values asked for at first: more tickers than any news feed names, so one request usually does. */
    static final int FACET_LIMIT = 4096;

    private final QdrantClient client;
    private final String collection;
    private final String location;
    private final PointValidator validator;
    private final int batchSize;
    private final int maxRetries;
    private final long firstBackoffMillis;

    /** Connects to {@code config.url()} (API key from the QDRANT_API_KEY environment variable, if set). */
    public static QdrantVectorStore connect(StoreConfig config, int dimension, String apiKeyOrNull) {
        URI url = URI.create(config.url());
        int port = url.getPort() < 0 ? 6334 : url.getPort();
        QdrantGrpcClient.Builder builder = QdrantGrpcClient.newBuilder(url.getHost(), port, "https".equals(url.getScheme()));
        if (apiKeyOrNull != null) builder.withApiKey(apiKeyOrNull);
        return new QdrantVectorStore(new QdrantClient(builder.withTimeout(TIMEOUT).build()), config, dimension, config.url(), 200);
    }

    /** Over a ready client (e.g. an in-process channel); {@code firstBackoffMillis} doubles on each retry. */
    public QdrantVectorStore(QdrantClient client, StoreConfig config, int dimension, String location, long firstBackoffMillis) {
        this.client = client;
        this.collection = config.collection();
        this.location = location + "/" + collection;
        this.validator = new PointValidator(dimension);
        this.batchSize = config.batchSize();
        this.maxRetries = config.maxRetries();
        this.firstBackoffMillis = firstBackoffMillis;
        ensureCollection(dimension);
    }

    private void ensureCollection(int dimension) {
        boolean exists = call("check collection", () -> client.collectionExistsAsync(collection, TIMEOUT));
        if (!exists) {
            log.info("creating Qdrant collection {} ({}-d, cosine)", location, dimension);
            try {
                call("create collection", () -> client.createCollectionAsync(collection,
                        VectorParams.newBuilder().setSize(dimension).setDistance(Distance.Cosine).build(), TIMEOUT));
            } catch (IllegalStateException e) {
                // Parallel writers open at once: another one may have created it between the check and the create.
                boolean createdMeanwhile;
                try {
                    createdMeanwhile = call("check collection", () -> client.collectionExistsAsync(collection, TIMEOUT));
                } catch (RuntimeException again) {
                    again.addSuppressed(e);
                    throw again;
                }
                if (!createdMeanwhile) throw e;
            }
        }
        // Creating an index that exists is a no-op in Qdrant; doing it every time repairs a half-made collection.
        index("created_at", PayloadSchemaType.Integer);
        index("symbols", PayloadSchemaType.Keyword);
        index("article_id", PayloadSchemaType.Integer);
    }

    private void index(String field, PayloadSchemaType type) {
        call("index " + field, () -> client.createPayloadIndexAsync(collection, field, type, null, true, null, TIMEOUT));
    }

    /** The Qdrant id of a chunk: a name-based UUID of article id and chunk index. */
    public static UUID uuid(long articleId, int chunkIndex) {
        return UUID.nameUUIDFromBytes(("finadvisor/" + articleId + "/" + chunkIndex).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void upsert(List<Point> points) {
        validator.checkPoints(points);
        write(points);
    }

    private void write(List<Point> points) {
        List<PointStruct> structs = points.stream().map(QdrantVectorStore::struct).toList();
        for (int from = 0; from < structs.size(); from += batchSize) {
            List<PointStruct> batch = structs.subList(from, Math.min(structs.size(), from + batchSize));
            int first = from;
            call("upsert points " + first + ".." + (first + batch.size() - 1),
                    () -> client.upsertAsync(io.qdrant.client.grpc.Points.UpsertPoints.newBuilder()
                            .setCollectionName(collection).setWait(true).addAllPoints(batch).build(), TIMEOUT));
        }
    }

    /**
     * Upserts the new chunks first, then deletes the article's chunks past the new last one: the
     * article never disappears from search in between (Qdrant has no multi-operation transaction).
     */
    @Override
    public void replaceArticle(long articleId, List<Point> points) {
        validator.checkPoints(points);
        validator.checkArticle(articleId, points);
        write(points);
        Filter stale = Filter.newBuilder()
                .addMust(ConditionFactory.match("article_id", articleId))
                .addMust(range("chunk_index", Range.newBuilder().setGte(points.size()).build()))
                .build();
        delete("delete stale chunks of article " + articleId, stale);
    }

    @Override
    public void deleteArticle(long articleId) {
        delete("delete article " + articleId, Filter.newBuilder().addMust(ConditionFactory.match("article_id", articleId)).build());
    }

    private void delete(String what, Filter filter) {
        call(what, () -> client.deleteAsync(io.qdrant.client.grpc.Points.DeletePoints.newBuilder()
                .setCollectionName(collection).setWait(true)
                .setPoints(io.qdrant.client.grpc.Points.PointsSelector.newBuilder().setFilter(filter)).build(), TIMEOUT));
    }

    @Override
    public Optional<Instant> articleUpdatedAt(long articleId) {
        var response = call("look up article " + articleId, () -> client.scrollAsync(ScrollPoints.newBuilder()
                .setCollectionName(collection)
                .setFilter(Filter.newBuilder().addMust(ConditionFactory.match("article_id", articleId)))
                .setLimit(1)
                .setWithPayload(WithPayloadSelectorFactory.enable(true))
                .build(), TIMEOUT));
        if (response.getResultCount() == 0) return Optional.empty();
        RetrievedPoint p = response.getResult(0);
        ChunkPayload payload = payload(p.getPayloadMap(), p.getId().getUuid());
        return Optional.ofNullable(payload.updatedAt() != null ? payload.updatedAt() : payload.createdAt());
    }

    @Override
    public List<Hit> search(float[] query, int k, SearchFilter filter) {
        validator.checkQuery(query, k);
        SearchPoints.Builder request = SearchPoints.newBuilder()
                .setCollectionName(collection)
                .setLimit(k)
                .setWithPayload(WithPayloadSelectorFactory.enable(true));
        for (float x : query) request.addVector(x);
        Filter f = filter(filter == null ? SearchFilter.NONE : filter);
        if (f != null) request.setFilter(f);
        List<ScoredPoint> scored = call("search", () -> client.searchAsync(request.build(), TIMEOUT));
        List<Hit> hits = new ArrayList<>(scored.size());
        for (ScoredPoint p : scored) {
            ChunkPayload payload = payload(p.getPayloadMap(), p.getId().getUuid());
            Value id = p.getPayloadMap().get("point_id");
            hits.add(new Hit(id == null ? payload.pointId() : id.getStringValue(), p.getScore(), payload));
        }
        return hits;
    }

    /** The same semantics as {@link SearchFilter#matches}: created_at in [since, until), any of the symbols. */
    static Filter filter(SearchFilter f) {
        if (f.isEmpty()) return null;
        Filter.Builder b = Filter.newBuilder();
        if (f.since() != null || f.until() != null) {
            Range.Builder r = Range.newBuilder();
            if (f.since() != null) r.setGte(ceilMillis(f.since()));
            if (f.until() != null) r.setLt(ceilMillis(f.until()));
            b.addMust(range("created_at", r.build()));
        }
        if (!f.anySymbols().isEmpty()) b.addMust(matchKeywords("symbols", f.anySymbols().stream().sorted().toList()));
        return b.build();
    }

    private static long ceilMillis(Instant t) {
        long ms = t.toEpochMilli();
        return Instant.ofEpochMilli(ms).isBefore(t) ? ms + 1 : ms;
    }

    @Override
    public long count() {
        return call("count", () -> client.countAsync(collection, TIMEOUT));
    }

    /**
     * The {@code symbols} values with at least one point, from Qdrant's facet counts over the keyword
     * index. Facets have no offset to page with, so the limit doubles until the answer comes back
     * short of it (i.e. complete). Counts are exact: approximate ones may keep a value whose only
     * article was just deleted. Exact counting reads every point's value, so callers cache the answer
     * (the serving chain re-reads it once a minute).
     */
    @Override
    public Set<String> symbols() {
        return symbols(FACET_LIMIT);
    }

    Set<String> symbols(long firstLimit) {
        for (long limit = firstLimit; ; limit *= 2) {
            long l = limit;
            List<FacetHit> hits = call("list symbols", () -> client.facetAsync(FacetCounts.newBuilder()
                    .setCollectionName(collection).setKey("symbols").setLimit(l).setExact(true).build(), TIMEOUT));
            if (hits.size() < limit) {
                Set<String> out = new java.util.TreeSet<>();
                for (FacetHit h : hits) if (h.getCount() > 0 && h.getValue().hasStringValue()) out.add(h.getValue().getStringValue());
                return out;
            }
        }
    }

    @Override
    public StoreStats stats() {
        return new StoreStats("qdrant", location, count(), null, null, null);
    }

    /** Qdrant applies each write before answering (wait=true): nothing left to flush. */
    @Override
    public void commit() {}

    @Override
    public void close() {
        client.close();
    }

    static PointStruct struct(Point point) {
        ChunkPayload p = point.payload();
        Map<String, Value> payload = new HashMap<>();
        payload.put("point_id", value(point.id()));
        payload.put("article_id", value(p.articleId()));
        payload.put("chunk_index", value((long) p.chunkIndex()));
        payload.put("text", value(p.text()));
        putIfPresent(payload, "headline", p.headline());
        putIfPresent(payload, "summary", p.summary());
        putIfPresent(payload, "url", p.url());
        putIfPresent(payload, "source", p.source());
        putIfPresent(payload, "author", p.author());
        payload.put("symbols", io.qdrant.client.ValueFactory.list(p.symbols().stream().map(io.qdrant.client.ValueFactory::value).toList()));
        payload.put("created_at", value(p.createdAt().toEpochMilli()));
        if (p.updatedAt() != null) payload.put("updated_at", value(p.updatedAt().toEpochMilli()));
        return PointStruct.newBuilder()
                .setId(PointIdFactory.id(uuid(p.articleId(), p.chunkIndex())))
                .setVectors(VectorsFactory.vectors(point.vector()))
                .putAllPayload(payload)
                .build();
    }

    private static void putIfPresent(Map<String, Value> payload, String key, String v) {
        if (v != null) payload.put(key, value(v));
    }

    static ChunkPayload payload(Map<String, Value> m, String uuid) {
        try {
            List<String> symbols = m.containsKey("symbols")
                    ? m.get("symbols").getListValue().getValuesList().stream().map(Value::getStringValue).toList() : List.of();
            return new ChunkPayload(m.get("article_id").getIntegerValue(), (int) m.get("chunk_index").getIntegerValue(),
                    string(m, "text"), string(m, "headline"), string(m, "summary"), string(m, "url"), symbols,
                    string(m, "source"), string(m, "author"), time(m, "created_at"), time(m, "updated_at"));
        } catch (RuntimeException e) {
            throw new IllegalStateException("Qdrant point " + uuid + " has a payload finadvisor did not write: " + m.keySet(), e);
        }
    }

    private static String string(Map<String, Value> m, String key) {
        Value v = m.get(key);
        return v == null || v.hasNullValue() ? null : v.getStringValue();
    }

    private static Instant time(Map<String, Value> m, String key) {
        Value v = m.get(key);
        return v == null || v.hasNullValue() ? null : Instant.ofEpochMilli(v.getIntegerValue());
    }

    /** Runs one request, retrying transient failures with exponential backoff; other failures name the request. */
    private <T> T call(String what, Supplier<ListenableFuture<T>> request) {
        for (int attempt = 0; ; attempt++) {
            try {
                return request.get().get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted during Qdrant " + what + " on " + location, e);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                Status status = cause instanceof StatusRuntimeException s ? s.getStatus() : Status.fromThrowable(cause);
                if (TRANSIENT.contains(status.getCode()) && attempt < maxRetries) {
                    long backoff = firstBackoffMillis << attempt;
                    log.warn("Qdrant {} on {} failed ({}), retry {}/{} in {} ms", what, location, status.getCode(), attempt + 1, maxRetries, backoff);
                    sleep(backoff);
                    continue;
                }
                String message = "Qdrant " + what + " on " + location + " failed: " + status.getCode()
                        + (status.getDescription() == null ? "" : " " + status.getDescription())
                        + (TRANSIENT.contains(status.getCode()) ? " (after " + maxRetries + " retries)" : "");
                if (status.getCode() == Status.Code.UNAUTHENTICATED || status.getCode() == Status.Code.PERMISSION_DENIED) {
                    throw new UserError(message + ": check QDRANT_API_KEY", cause);
                }
                if (status.getCode() == Status.Code.UNAVAILABLE) {
                    throw new StoreUnavailable(message + ": is Qdrant running there? (store.url)", cause);
                }
                if (TRANSIENT.contains(status.getCode())) throw new StoreUnavailable(message, cause);
                throw new IllegalStateException(message, cause);
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting to retry a Qdrant request", e);
        }
    }
}
