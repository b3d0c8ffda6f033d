package dev.finadvisor.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/** Against a real Qdrant server: runs only when QDRANT_URL (e.g. http://localhost:6334) is set. */
@EnabledIfEnvironmentVariable(named = "QDRANT_URL", matches = ".+")
class QdrantIntegrationTest {
    @Test
    void roundTripsPointsFiltersSymbolsAndDeletesOnARealServer() {
        String collection = "finadvisor_test_" + UUID.randomUUID().toString().replace("-", "");
        StoreConfig config = StoreConfig.qdrant(System.getenv("QDRANT_URL"), collection);
        List<Point> points = TestPoints.news(200, 384, 31);
        try (VectorStore store = VectorStores.openForWriting(config, 384)) {
            store.upsert(points);
            store.upsert(points);
            assertThat(store.count()).isEqualTo(200);
            ClusteredVectors topics = TestPoints.vectors(384, 31);
            SearchFilter filter = new SearchFilter(TestPoints.T0.plusSeconds(3600L * 50), null, Set.of("NVDA", "AAPL"));
            for (int q = 0; q < 5; q++) {
                float[] query = topics.query(q);
                List<Hit> hits = store.search(query, 5, filter);
                assertThat(hits).allSatisfy(h -> assertThat(filter.matches(h.payload())).isTrue());
                // Small collections are searched exactly by Qdrant.
                assertThat(hits).extracting(Hit::id)
                        .containsExactlyElementsOf(TestPoints.exactTop(points, query, 5, p -> filter.matches(p.payload())));
            }
            assertThat(store.symbols()).containsExactlyInAnyOrderElementsOf(TestPoints.TICKERS);
            store.upsert(List.of(TestPoints.point(5000, 0, topics.vector(0), TestPoints.T0, List.of("ONLY5000"))));
            assertThat(store.symbols()).contains("ONLY5000");
            store.deleteArticle(5000);
            assertThat(store.symbols()).containsExactlyInAnyOrderElementsOf(TestPoints.TICKERS);
            store.deleteArticle(1000);
            assertThat(store.count()).isEqualTo(199);
            assertThat(store.articleUpdatedAt(1000)).isEmpty();
            assertThat(store.articleUpdatedAt(1001)).isPresent();
        }
    }
}
