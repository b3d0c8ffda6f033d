package dev.finadvisor.retrieval;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import io.qdrant.client.grpc.Collections.CollectionExists;
import io.qdrant.client.grpc.Collections.CollectionExistsRequest;
import io.qdrant.client.grpc.Collections.CollectionExistsResponse;
import io.qdrant.client.grpc.Collections.CollectionOperationResponse;
import io.qdrant.client.grpc.Collections.CreateCollection;
import io.qdrant.client.grpc.CollectionsGrpc;
import io.qdrant.client.grpc.Common.Condition;
import io.qdrant.client.grpc.Common.FieldCondition;
import io.qdrant.client.grpc.Common.Filter;
import io.qdrant.client.grpc.Common.Match;
import io.qdrant.client.grpc.Common.PointId;
import io.qdrant.client.grpc.Common.Range;
import io.qdrant.client.grpc.JsonWithInt.Value;
import io.qdrant.client.grpc.Points.CountPoints;
import io.qdrant.client.grpc.Points.CountResponse;
import io.qdrant.client.grpc.Points.CountResult;
import io.qdrant.client.grpc.Points.CreateFieldIndexCollection;
import io.qdrant.client.grpc.Points.DeletePoints;
import io.qdrant.client.grpc.Points.FacetCounts;
import io.qdrant.client.grpc.Points.FacetHit;
import io.qdrant.client.grpc.Points.FacetResponse;
import io.qdrant.client.grpc.Points.FacetValue;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.PointsOperationResponse;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import io.qdrant.client.grpc.Points.ScoredPoint;
import io.qdrant.client.grpc.Points.ScrollPoints;
import io.qdrant.client.grpc.Points.ScrollResponse;
import io.qdrant.client.grpc.Points.SearchPoints;
import io.qdrant.client.grpc.Points.SearchResponse;
import io.qdrant.client.grpc.Points.UpdateResult;
import io.qdrant.client.grpc.Points.UpdateStatus;
import io.qdrant.client.grpc.Points.UpsertPoints;
import io.qdrant.client.grpc.Points.Vector;
import io.qdrant.client.grpc.PointsGrpc;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-process stand-in for a Qdrant server: the real gRPC services (the generated bases of the
 * official client), implementing the few calls the store makes with Qdrant's semantics (cosine =
 * dot of normalised vectors, must-filters with keyword/any-keyword/integer matches and ranges,
 * array fields match when any element does). Anything else answers UNIMPLEMENTED, so a store that
 * starts using another call or filter shape fails its tests instead of passing on a guess. {@link #onLoopback()} also
 * listens on a TCP port of 127.0.0.1, for clients in other JVMs (a Flink cluster's TaskManagers).
 */
public final class FakeQdrant implements AutoCloseable {
    record Stored(float[] vector, Map<String, Value> payload) {}

    record Collection(CreateCollection definition, Map<String, Stored> points, Map<String, String> indexes) {}

    final Map<String, Collection> collections = new ConcurrentHashMap<>();
    final List<String> calls = new CopyOnWriteArrayList<>();
    final AtomicInteger failNext = new AtomicInteger();
    final AtomicInteger failNextFacets = new AtomicInteger();
    volatile Status failWith = Status.UNAVAILABLE;
    /** If set, the next "does it exist" is answered, and this collection then created (as by another client in between). */
    volatile CreateCollection createdBehindNextCheck;

    private final Server server;
    private final Server tcp;
    private final String name = "fake-qdrant-" + UUID.randomUUID();

    /** Reachable in this JVM only, through {@link #client()}. */
    public FakeQdrant() throws IOException {
        this(false);
    }

    private FakeQdrant(boolean listen) throws IOException {
        server = InProcessServerBuilder.forName(name).directExecutor()
                .addService(new Collections()).addService(new Points()).build().start();
        tcp = listen ? NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .addService(new Collections()).addService(new Points()).build().start() : null;
    }

    /** Also listening on a free port of 127.0.0.1 ({@link #url()}), as a Qdrant server's gRPC port does. */
    public static FakeQdrant onLoopback() throws IOException {
        return new FakeQdrant(true);
    }

    /** The {@code store.url} of the TCP port ({@link #onLoopback()} only). */
    public String url() {
        if (tcp == null) throw new IllegalStateException("this fake is in-process only: make it with onLoopback()");
        return "http://127.0.0.1:" + tcp.getPort();
    }

    /** The number of points in a collection (0 when it does not exist). */
    public int points(String collection) {
        Collection c = collections.get(collection);
        return c == null ? 0 : c.points().size();
    }

    QdrantClient client() {
        ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        return new QdrantClient(QdrantGrpcClient.newBuilder(channel, true).build());
    }

    /** The next {@code n} upserts fail with {@code status}. */
    void failNextUpserts(int n, Status status) {
        failWith = status;
        failNext.set(n);
    }

    /** The next {@code n} facet requests fail with {@code status}. */
    void failNextFacets(int n, Status status) {
        failWith = status;
        failNextFacets.set(n);
    }

    long calls(String method) {
        return calls.stream().filter(method::equals).count();
    }

    @Override
    public void close() {
        server.shutdownNow();
        if (tcp != null) tcp.shutdownNow();
    }

    private Collection collection(String name) {
        Collection c = collections.get(name);
        if (c == null) throw Status.NOT_FOUND.withDescription("Collection `" + name + "` doesn't exist!").asRuntimeException();
        return c;
    }

    private final class Collections extends CollectionsGrpc.CollectionsImplBase {
        @Override
        public void collectionExists(CollectionExistsRequest request, StreamObserver<CollectionExistsResponse> out) {
            calls.add("collectionExists");
            boolean exists = collections.containsKey(request.getCollectionName());
            CreateCollection behind = createdBehindNextCheck;
            if (behind != null) { // made before the answer goes out, so the client's create surely comes after it
                createdBehindNextCheck = null;
                collections.putIfAbsent(behind.getCollectionName(), new Collection(behind, new ConcurrentHashMap<>(), new ConcurrentHashMap<>()));
            }
            out.onNext(CollectionExistsResponse.newBuilder().setResult(CollectionExists.newBuilder().setExists(exists)).build());
            out.onCompleted();
        }

        @Override
        public void create(CreateCollection request, StreamObserver<CollectionOperationResponse> out) {
            calls.add("create");
            if (collections.putIfAbsent(request.getCollectionName(),
                    new Collection(request, new ConcurrentHashMap<>(), new ConcurrentHashMap<>())) != null) {
                out.onError(Status.ALREADY_EXISTS.asRuntimeException());
                return;
            }
            out.onNext(CollectionOperationResponse.newBuilder().setResult(true).build());
            out.onCompleted();
        }
    }

    private final class Points extends PointsGrpc.PointsImplBase {
        private void done(StreamObserver<PointsOperationResponse> out) {
            out.onNext(PointsOperationResponse.newBuilder().setResult(UpdateResult.newBuilder().setStatus(UpdateStatus.Completed)).build());
            out.onCompleted();
        }

        @Override
        public void createFieldIndex(CreateFieldIndexCollection request, StreamObserver<PointsOperationResponse> out) {
            calls.add("createFieldIndex");
            try {
                collection(request.getCollectionName()).indexes().put(request.getFieldName(), request.getFieldType().name());
                done(out);
            } catch (RuntimeException e) {
                out.onError(e);
            }
        }

        @Override
        public void upsert(UpsertPoints request, StreamObserver<PointsOperationResponse> out) {
            calls.add("upsert");
            if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                out.onError(failWith.withDescription("injected failure").asRuntimeException());
                return;
            }
            try {
                Collection c = collection(request.getCollectionName());
                long size = c.definition().getVectorsConfig().getParams().getSize();
                for (PointStruct p : request.getPointsList()) {
                    Vector v = p.getVectors().getVector();
                    List<Float> data = v.hasDense() ? v.getDense().getDataList() : v.getDataList();
                    if (data.size() != size) {
                        throw Status.INVALID_ARGUMENT.withDescription("Wrong input: Vector dimension error: expected dim: "
                                + size + ", got " + data.size()).asRuntimeException();
                    }
                    float[] vector = new float[data.size()];
                    for (int i = 0; i < vector.length; i++) vector[i] = data.get(i);
                    c.points().put(p.getId().getUuid(), new Stored(ClusteredVectors.normalise(vector), Map.copyOf(p.getPayloadMap())));
                }
                done(out);
            } catch (RuntimeException e) {
                out.onError(e);
            }
        }

        @Override
        public void delete(DeletePoints request, StreamObserver<PointsOperationResponse> out) {
            calls.add("delete");
            try {
                Collection c = collection(request.getCollectionName());
                if (!request.getPoints().hasFilter()) throw Status.UNIMPLEMENTED.withDescription("fake: delete by filter only").asRuntimeException();
                Filter f = request.getPoints().getFilter();
                c.points().values().removeIf(s -> matches(f, s.payload()));
                done(out);
            } catch (RuntimeException e) {
                out.onError(e);
            }
        }

        @Override
        public void search(SearchPoints request, StreamObserver<SearchResponse> out) {
            calls.add("search");
            try {
                Collection c = collection(request.getCollectionName());
                float[] q = new float[request.getVectorCount()];
                for (int i = 0; i < q.length; i++) q[i] = request.getVector(i);
                ClusteredVectors.normalise(q);
                List<ScoredPoint> scored = new ArrayList<>();
                for (var e : c.points().entrySet()) {
                    if (request.hasFilter() && !matches(request.getFilter(), e.getValue().payload())) continue;
                    float s = 0;
                    for (int i = 0; i < q.length; i++) s += q[i] * e.getValue().vector()[i];
                    ScoredPoint.Builder p = ScoredPoint.newBuilder().setId(PointId.newBuilder().setUuid(e.getKey())).setScore(s);
                    if (request.getWithPayload().getEnable()) p.putAllPayload(e.getValue().payload());
                    scored.add(p.build());
                }
                scored.sort(Comparator.comparingDouble((ScoredPoint p) -> -p.getScore()));
                out.onNext(SearchResponse.newBuilder().addAllResult(scored.subList(0, (int) Math.min(scored.size(), request.getLimit()))).build());
                out.onCompleted();
            } catch (RuntimeException e) {
                out.onError(e);
            }
        }

        @Override
        public void scroll(ScrollPoints request, StreamObserver<ScrollResponse> out) {
            calls.add("scroll");
            try {
                Collection c = collection(request.getCollectionName());
                ScrollResponse.Builder r = ScrollResponse.newBuilder();
                int limit = request.hasLimit() ? request.getLimit() : 10;
                for (var e : new TreeMap<>(c.points()).entrySet()) {
                    if (r.getResultCount() == limit) break;
                    if (request.hasFilter() && !matches(request.getFilter(), e.getValue().payload())) continue;
                    RetrievedPoint.Builder p = RetrievedPoint.newBuilder().setId(PointId.newBuilder().setUuid(e.getKey()));
                    if (request.getWithPayload().getEnable()) p.putAllPayload(e.getValue().payload());
                    r.addResult(p);
                }
                out.onNext(r.build());
                out.onCompleted();
            } catch (RuntimeException e) {
                out.onError(e);
            }
        }

        /**
         * Qdrant's facet counts: how many points hold each value of {@code key} (a point whose array
         * holds a value twice counts once), largest count first, then by value; only values of points
         * still stored. Like Qdrant, the key needs a keyword payload index and the limit defaults to 10.
         */
        @Override
        public void facet(FacetCounts request, StreamObserver<FacetResponse> out) {
            calls.add("facet");
            if (failNextFacets.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                out.onError(failWith.withDescription("injected failure").asRuntimeException());
                return;
            }
            try {
                Collection c = collection(request.getCollectionName());
                if (!"FieldTypeKeyword".equals(c.indexes().get(request.getKey()))) {
                    throw Status.INVALID_ARGUMENT.withDescription("Bad request: Index required but not found for \""
                            + request.getKey() + "\" of one of the following types: [keyword, integer, bool]").asRuntimeException();
                }
                Map<String, Long> counts = new TreeMap<>();
                for (Stored s : c.points().values()) {
                    if (request.hasFilter() && !matches(request.getFilter(), s.payload())) continue;
                    Value v = s.payload().get(request.getKey());
                    if (v == null) continue;
                    List<Value> values = v.hasListValue() ? v.getListValue().getValuesList() : List.of(v);
                    values.stream().filter(Value::hasStringValue).map(Value::getStringValue).distinct()
                            .forEach(value -> counts.merge(value, 1L, Long::sum));
                }
                long limit = request.hasLimit() ? request.getLimit() : 10;
                FacetResponse.Builder r = FacetResponse.newBuilder();
                counts.entrySet().stream()
                        .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                        .limit(limit)
                        .forEach(e -> r.addHits(FacetHit.newBuilder()
                                .setValue(FacetValue.newBuilder().setStringValue(e.getKey())).setCount(e.getValue())));
                out.onNext(r.build());
                out.onCompleted();
            } catch (RuntimeException e) {
                out.onError(e);
            }
        }

        @Override
        public void count(CountPoints request, StreamObserver<CountResponse> out) {
            calls.add("count");
            try {
                Collection c = collection(request.getCollectionName());
                long n = c.points().values().stream()
                        .filter(s -> !request.hasFilter() || matches(request.getFilter(), s.payload())).count();
                out.onNext(CountResponse.newBuilder().setResult(CountResult.newBuilder().setCount(n)).build());
                out.onCompleted();
            } catch (RuntimeException e) {
                out.onError(e);
            }
        }
    }

    static boolean matches(Filter f, Map<String, Value> payload) {
        if (f.getShouldCount() > 0 || f.getMustNotCount() > 0 || f.hasMinShould()) {
            throw Status.UNIMPLEMENTED.withDescription("fake: must-filters only").asRuntimeException();
        }
        for (Condition c : f.getMustList()) {
            if (!c.hasField()) throw Status.UNIMPLEMENTED.withDescription("fake: field conditions only").asRuntimeException();
            if (!matches(c.getField(), payload.get(c.getField().getKey()))) return false;
        }
        return true;
    }

    private static boolean matches(FieldCondition c, Value v) {
        if (v == null) return false;
        if (v.hasListValue()) return v.getListValue().getValuesList().stream().anyMatch(e -> matches(c, e));
        if (c.hasMatch()) {
            Match m = c.getMatch();
            return switch (m.getMatchValueCase()) {
                case KEYWORD -> v.hasStringValue() && v.getStringValue().equals(m.getKeyword());
                case INTEGER -> v.hasIntegerValue() && v.getIntegerValue() == m.getInteger();
                case KEYWORDS -> v.hasStringValue() && m.getKeywords().getStringsList().contains(v.getStringValue());
                default -> throw Status.UNIMPLEMENTED.withDescription("fake: match " + m.getMatchValueCase()).asRuntimeException();
            };
        }
        if (c.hasRange()) {
            Range r = c.getRange();
            double x = v.hasIntegerValue() ? v.getIntegerValue() : v.hasDoubleValue() ? v.getDoubleValue() : Double.NaN;
            if (Double.isNaN(x)) return false;
            return (!r.hasGte() || x >= r.getGte()) && (!r.hasGt() || x > r.getGt())
                    && (!r.hasLt() || x < r.getLt()) && (!r.hasLte() || x <= r.getLte());
        }
        throw Status.UNIMPLEMENTED.withDescription("fake: condition on " + c.getKey()).asRuntimeException();
    }
}
