package dev.finadvisor.retrieval;

import static dev.finadvisor.retrieval.TestPoints.T0;
import static dev.finadvisor.retrieval.TestPoints.exactTop;
import static dev.finadvisor.retrieval.TestPoints.news;
import static dev.finadvisor.retrieval.TestPoints.point;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.finadvisor.domain.UserError;
import io.grpc.Status;
import io.qdrant.client.grpc.Collections.CreateCollection;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Collections.VectorsConfig;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** QdrantVectorStore against {@link FakeQdrant}: Qdrant's real gRPC services, in process. */
class QdrantVectorStoreTest {
    private static final int DIM = 384;
    private FakeQdrant fake;

    @BeforeEach
    void start() throws Exception {
        fake = new FakeQdrant();
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    private QdrantVectorStore store(int batchSize, int maxRetries) {
        StoreConfig config = new StoreConfig("qdrant", null, "http://fake:6334", "news", batchSize, maxRetries);
        return new QdrantVectorStore(fake.client(), config, DIM, "in-process", 1);
    }

    @Test
    void createsTheCollectionAndPayloadIndexesOnlyWhenMissing() {
        try (var store = store(256, 0)) {
            var definition = fake.collections.get("news").definition().getVectorsConfig().getParams();
            assertThat(definition.getSize()).isEqualTo(384);
            assertThat(definition.getDistance()).isEqualTo(Distance.Cosine);
            assertThat(fake.collections.get("news").indexes())
                    .containsEntry("created_at", "FieldTypeInteger").containsEntry("symbols", "FieldTypeKeyword")
                    .containsEntry("article_id", "FieldTypeInteger");
            store.upsert(news(3, DIM, 1));
        }
        try (var again = store(256, 0)) {
            assertThat(fake.calls("create")).isEqualTo(1);
            assertThat(again.count()).isEqualTo(3);
        }
    }

    @Test
    void aCollectionAnotherWriterCreatesBetweenTheCheckAndTheCreateIsUsed() {
        fake.createdBehindNextCheck = CreateCollection.newBuilder().setCollectionName("news").setVectorsConfig(VectorsConfig.newBuilder()
                .setParams(VectorParams.newBuilder().setSize(DIM).setDistance(Distance.Cosine))).build(); // parallel writers opening at once
        try (var store = store(256, 0)) {
            assertThat(fake.calls("create")).as("refused: it exists by then").isEqualTo(1);
            assertThat(fake.calls("collectionExists")).isEqualTo(2);
            store.upsert(news(3, DIM, 1));
            assertThat(store.count()).isEqualTo(3);
        }
    }

    @Test
    void upsertsInBatchesUnderDeterministicUuidsAndOverwrites() {
        List<Point> points = news(20, DIM, 2);
        try (var store = store(7, 0)) {
            store.upsert(points);
            assertThat(fake.calls("upsert")).isEqualTo(3);
            store.upsert(points);
            assertThat(store.count()).isEqualTo(20);
            assertThat(fake.collections.get("news").points())
                    .containsKey(QdrantVectorStore.uuid(1000, 0).toString())
                    .containsKey(QdrantVectorStore.uuid(1019, 0).toString());
            assertThat(QdrantVectorStore.uuid(1000, 0)).isEqualTo(QdrantVectorStore.uuid(1000, 0)).isNotEqualTo(QdrantVectorStore.uuid(1000, 1));
        }
    }

    @Test
    void searchAppliesTheSameFilterSemanticsAsLucene() {
        List<Point> points = news(400, DIM, 3);
        Instant since = T0.plusSeconds(3600L * 100);
        Instant until = T0.plusSeconds(3600L * 250);
        List<SearchFilter> filters = List.of(SearchFilter.NONE, new SearchFilter(since, null, Set.of()),
                new SearchFilter(null, until, Set.of()), new SearchFilter(since, until, Set.of("NVDA", "JPM")),
                new SearchFilter(null, null, Set.of("AAPL")), new SearchFilter(null, null, Set.of("NOPE")));
        ClusteredVectors topics = TestPoints.vectors(DIM, 3);
        try (var store = store(100, 0)) {
            store.upsert(points);
            for (SearchFilter filter : filters) {
                for (int q = 0; q < 4; q++) {
                    float[] query = topics.query(q);
                    List<Hit> hits = store.search(query, 5, filter);
                    assertThat(hits).extracting(Hit::id).as(filter.toString())
                            .containsExactlyElementsOf(exactTop(points, query, 5, p -> filter.matches(p.payload())));
                    for (Hit h : hits) {
                        Point p = points.get((int) (h.payload().articleId() - 1000));
                        assertThat(h.payload()).isEqualTo(p.payload());
                        assertThat(h.score()).isCloseTo((float) TestPoints.dot(p.vector(), query), within(1e-5f));
                    }
                }
            }
        }
    }

    @Test
    void replaceArticleDropsStaleChunksAndDeleteRemovesTheArticle() {
        ClusteredVectors v = TestPoints.vectors(DIM, 4);
        try (var store = store(256, 0)) {
            List<Point> three = new ArrayList<>();
            for (int c = 0; c < 3; c++) three.add(point(9, c, v.vector(c), T0, List.of("TSLA")));
            store.replaceArticle(9, three);
            store.upsert(List.of(point(10, 0, v.vector(10), T0, List.of("TSLA"))));
            store.replaceArticle(9, List.of(point(9, 0, v.vector(20), T0.plusSeconds(5), List.of("TSLA"))));
            assertThat(store.count()).isEqualTo(2);
            assertThat(store.articleUpdatedAt(9)).contains(T0.plusSeconds(65));
            store.deleteArticle(9);
            assertThat(store.count()).isEqualTo(1);
            assertThat(store.articleUpdatedAt(9)).isEmpty();
            assertThat(store.articleUpdatedAt(10)).contains(T0.plusSeconds(60));
        }
    }

    @Test
    void transientFailuresAreRetriedAndPersistentOnesNamed() {
        try (var store = store(256, 2)) {
            fake.failNextUpserts(2, Status.UNAVAILABLE);
            store.upsert(news(5, DIM, 5));
            assertThat(store.count()).isEqualTo(5);
            assertThat(fake.calls("upsert")).isEqualTo(3);

            fake.failNextUpserts(3, Status.UNAVAILABLE);
            assertThatThrownBy(() -> store.upsert(news(1, DIM, 6))).isInstanceOf(StoreUnavailable.class)
                    .hasMessageContaining("Qdrant upsert points 0..0 on in-process/news failed: UNAVAILABLE")
                    .hasMessageContaining("after 2 retries");

            long before = fake.calls("upsert");
            fake.failNextUpserts(1, Status.INVALID_ARGUMENT);
            assertThatThrownBy(() -> store.upsert(news(1, DIM, 7))).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("INVALID_ARGUMENT");
            assertThat(fake.calls("upsert") - before).as("not retried").isEqualTo(1);
        }
    }

    @Test
    void badPointsAreRefusedBeforeAnyRequest() {
        try (var store = store(256, 0)) {
            float[] nan = TestPoints.vectors(DIM, 8).vector(0);
            nan[5] = Float.NaN;
            assertThatThrownBy(() -> store.upsert(List.of(news(1, DIM, 8).get(0), point(1, 0, nan, T0, List.of()))))
                    .hasMessageContaining("point 1 of 2").hasMessageContaining("component 5 is NaN");
            assertThatThrownBy(() -> store.search(new float[3], 5, SearchFilter.NONE)).hasMessageContaining("3 dimensions");
            assertThat(fake.calls("upsert")).isZero();
            assertThat(fake.calls("search")).isZero();
        }
    }

    @Test
    void symbolsListsEveryTickerStillHeldAndDropsOneWhoseOnlyArticleIsDeleted() {
        ClusteredVectors v = TestPoints.vectors(DIM, 9);
        try (var store = store(256, 0)) {
            assertThat(store.symbols()).isEmpty();
            List<Point> points = news(40, DIM, 9);
            store.upsert(points);
            Set<String> expected = new java.util.TreeSet<>();
            points.forEach(p -> expected.addAll(p.payload().symbols()));
            assertThat(expected).hasSize(8);
            assertThat(store.symbols()).isEqualTo(expected);

            // Two chunks of one article name a ticker no other article names: it goes when the article does.
            store.replaceArticle(7, List.of(point(7, 0, v.vector(0), T0, List.of("ONLY7", "AAPL")),
                    point(7, 1, v.vector(1), T0, List.of("ONLY7"))));
            assertThat(store.symbols()).contains("ONLY7").containsAll(expected);
            store.deleteArticle(7);
            assertThat(store.symbols()).isEqualTo(expected);
        }
    }

    @Test
    void symbolsAsksForMoreFacetValuesUntilTheAnswerIsComplete() {
        try (var store = store(256, 0)) {
            store.upsert(news(40, DIM, 10)); // 8 tickers
            long before = fake.calls("facet");
            assertThat(store.symbols(3)).containsExactlyInAnyOrderElementsOf(TestPoints.TICKERS);
            assertThat(fake.calls("facet") - before).as("limits 3, 6, 12").isEqualTo(3);
            assertThat(store.symbols(8)).as("exactly the limit is not known complete").hasSize(8);
            assertThat(fake.calls("facet") - before).isEqualTo(5);
        }
    }

    @Test
    void aFailedSymbolListingNamesTheRequest() {
        try (var store = store(256, 1)) {
            store.upsert(news(5, DIM, 11));
            fake.failNextFacets(1, Status.UNAVAILABLE);
            assertThat(store.symbols()).isNotEmpty(); // retried
            fake.failNextFacets(1, Status.INTERNAL);
            assertThatThrownBy(store::symbols).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("Qdrant list symbols on in-process/news failed: INTERNAL");
        }
    }
}
