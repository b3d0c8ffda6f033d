package dev.finadvisor.retrieval;

import static dev.finadvisor.retrieval.TestPoints.T0;
import static dev.finadvisor.retrieval.TestPoints.dot;
import static dev.finadvisor.retrieval.TestPoints.exactTop;
import static dev.finadvisor.retrieval.TestPoints.news;
import static dev.finadvisor.retrieval.TestPoints.point;
import static dev.finadvisor.retrieval.TestPoints.unit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.finadvisor.domain.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.lucene.index.CheckIndex;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LuceneVectorStoreTest {
    private static final int DIM = 384;

    @TempDir
    Path tmp;

    @Test
    void searchFindsTheExactNearestNeighboursWithTheirCosine() {
        List<Point> points = news(3000, DIM, 1);
        try (var store = LuceneVectorStore.open(tmp.resolve("idx"), DIM)) {
            store.upsert(points);
            ClusteredVectors topics = TestPoints.vectors(DIM, 1);
            int found = 0;
            int queries = 40;
            for (int q = 0; q < queries; q++) {
                float[] query = topics.query(q);
                List<Hit> hits = store.search(query, 5, SearchFilter.NONE);
                assertThat(hits).hasSize(5);
                List<String> exact = exactTop(points, query, 5, p -> true);
                found += (int) hits.stream().filter(h -> exact.contains(h.id())).count();
                for (int i = 0; i < hits.size(); i++) {
                    Hit h = hits.get(i);
                    Point p = points.get((int) (h.payload().articleId() - 1000));
                    assertThat(h.score()).isCloseTo((float) dot(p.vector(), query), within(1e-5f));
                    if (i > 0) assertThat(h.score()).isLessThanOrEqualTo(hits.get(i - 1).score());
                }
            }
            assertThat(found / (5.0 * queries)).isGreaterThanOrEqualTo(0.98);
        }
    }

    @Test
    void aPointFindsItselfFirstWithPayloadIntact() {
        Instant created = Instant.parse("2026-02-03T04:05:06.789Z");
        ChunkPayload payload = new ChunkPayload(42, 3, "Zürich bank's «chunk» text — 日本", "Head", "Sum",
                "https://x.example/a?b=c", List.of("UBS", "CS"), "reuters", "Ann Author", created, created.plusSeconds(5));
        float[] v = unit(new Random(3), DIM);
        try (var store = LuceneVectorStore.open(tmp.resolve("idx"), DIM)) {
            store.upsert(List.of(new Point("42#3", v, payload)));
            store.upsert(news(50, DIM, 4));
            Hit top = store.search(v, 1, SearchFilter.NONE).get(0);
            assertThat(top.id()).isEqualTo("42#3");
            assertThat(top.payload()).isEqualTo(payload);
            assertThat(top.score()).isCloseTo(1f, within(1e-5f));
        }
    }

    @Test
    void upsertOverwritesByIdInsteadOfDuplicating() {
        float[] v = unit(new Random(5), DIM);
        try (var store = LuceneVectorStore.open(tmp.resolve("idx"), DIM)) {
            store.upsert(List.of(point(7, 0, v, T0, List.of("AAPL"))));
            ChunkPayload newer = new ChunkPayload(7, 0, "corrected text", "H", "S", "u", List.of("AAPL"), "s", "a", T0, T0.plusSeconds(999));
            store.upsert(List.of(new Point("7#0", v, newer)));
            store.upsert(List.of(new Point("7#0", v, newer)));
            assertThat(store.count()).isEqualTo(1);
            assertThat(store.search(v, 5, SearchFilter.NONE)).singleElement()
                    .satisfies(h -> assertThat(h.payload().text()).isEqualTo("corrected text"));
            assertThat(store.articleUpdatedAt(7)).contains(T0.plusSeconds(999));
        }
    }

    @Test
    void newestArticlesListsEachLiveArticleOnceByItsFirstChunkNewestFirst() {
        Random random = new Random(8);
        try (var store = LuceneVectorStore.open(tmp.resolve("idx"), DIM)) {
            store.replaceArticle(1, List.of(point(1, 0, unit(random, DIM), T0, List.of("AAPL")), point(1, 1, unit(random, DIM), T0, List.of("AAPL"))));
            store.upsert(List.of(point(2, 1, unit(random, DIM), T0.plusSeconds(3600), List.of()), point(2, 0, unit(random, DIM), T0.plusSeconds(3600), List.of())));
            store.upsert(List.of(point(3, 0, unit(random, DIM), T0.plusSeconds(60), List.of("TSLA"))));
            store.commit();
            store.upsert(List.of(point(4, 0, unit(random, DIM), T0.plusSeconds(7200), List.of())));
            store.deleteArticle(4); // deleted: not listed
            assertThat(store.newestArticles(10)).extracting(ChunkPayload::articleId).containsExactly(2L, 3L, 1L);
            assertThat(store.newestArticles(10)).allSatisfy(p -> assertThat(p.chunkIndex()).isZero());
            assertThat(store.newestArticles(2)).extracting(ChunkPayload::articleId).containsExactly(2L, 3L);
        }
    }

    @Test
    void replaceArticleLeavesNoStaleChunksAndDeleteRemovesAll() {
        Random random = new Random(6);
        try (var store = LuceneVectorStore.open(tmp.resolve("idx"), DIM)) {
            List<Point> three = new ArrayList<>();
            for (int c = 0; c < 3; c++) three.add(point(9, c, unit(random, DIM), T0, List.of("TSLA")));
            store.replaceArticle(9, three);
            store.upsert(List.of(point(10, 0, unit(random, DIM), T0, List.of("TSLA"))));
            assertThat(store.count()).isEqualTo(4);
            List<Point> two = List.of(point(9, 0, unit(random, DIM), T0, List.of("TSLA")),
                    point(9, 1, unit(random, DIM), T0, List.of("TSLA")));
            store.replaceArticle(9, two);
            assertThat(store.count()).isEqualTo(3);
            assertThat(store.search(three.get(2).vector(), 10, SearchFilter.NONE)).extracting(Hit::id)
                    .containsExactlyInAnyOrder("9#0", "9#1", "10#0");
            store.deleteArticle(9);
            assertThat(store.count()).isEqualTo(1);
            assertThat(store.articleUpdatedAt(9)).isEmpty();
            assertThat(store.articleUpdatedAt(10)).contains(T0.plusSeconds(60));
        }
    }

    @Test
    void replaceArticleRefusesPointsOfAnotherArticle() {
        try (var store = LuceneVectorStore.open(tmp.resolve("idx"), DIM)) {
            var stranger = point(11, 0, unit(new Random(7), DIM), T0, List.of());
            assertThatThrownBy(() -> store.replaceArticle(12, List.of(stranger)))
                    .hasMessageContaining("belongs to article 11, not to article 12");
            assertThat(store.count()).isZero();
        }
    }

    @Test
    void filtersKeepOnlyPointsInTheTimeWindowAndWithAnyOfTheSymbols() {
        List<Point> points = news(2000, DIM, 8);
        Instant since = T0.plusSeconds(3600L * 500);
        Instant until = T0.plusSeconds(3600L * 700);
        List<SearchFilter> filters = List.of(
                new SearchFilter(since, null, Set.of()),
                new SearchFilter(null, until, Set.of()),
                new SearchFilter(since, until, Set.of()),
                new SearchFilter(null, null, Set.of("NVDA")),
                new SearchFilter(null, null, Set.of("NVDA", "JPM")),
                new SearchFilter(since, until, Set.of("AAPL", "META")),
                new SearchFilter(null, null, Set.of("NOPE")));
        try (var store = LuceneVectorStore.open(tmp.resolve("idx"), DIM)) {
            store.upsert(points);
            ClusteredVectors topics = TestPoints.vectors(DIM, 8);
            // Filters passing few points are answered by an exact scan: exactly the brute-force answer.
            for (SearchFilter filter : filters) {
                for (int q = 0; q < 5; q++) {
                    float[] query = topics.query(q);
                    assertThat(store.search(query, 5, filter)).extracting(Hit::id).as(filter.toString())
                            .containsExactlyElementsOf(exactTop(points, query, 5, p -> filter.matches(p.payload())));
                }
            }
            // HNSW's own filtered graph search: every hit passes, and nearly all true neighbours are found.
            store.exactFilterLimit(0);
            int found = 0;
            int wanted = 0;
            for (SearchFilter filter : filters) {
                for (int q = 0; q < 8; q++) {
                    float[] query = topics.query(q);
                    List<Hit> hits = store.search(query, 5, filter);
                    assertThat(hits).allSatisfy(h -> assertThat(filter.matches(h.payload())).as(filter.toString()).isTrue());
                    List<String> exact = exactTop(points, query, 5, p -> filter.matches(p.payload()));
                    assertThat(hits).as(filter.toString()).hasSameSizeAs(exact);
                    found += (int) hits.stream().filter(h -> exact.contains(h.id())).count();
                    wanted += exact.size();
                }
            }
            assertThat(found / (double) wanted).isGreaterThanOrEqualTo(0.95);
        }
    }

    @Test
    void exactFilteredSearchSkipsDeletedAndOverwrittenPoints() {
        List<Point> points = news(300, DIM, 19);
        try (var store = LuceneVectorStore.open(tmp.resolve("idx"), DIM)) {
            store.upsert(points);
            store.commit();
            Point target = points.get(42);
            store.deleteArticle(target.payload().articleId());
            Point moved = points.get(43);
            float[] elsewhere = points.get(200).vector();
            store.upsert(List.of(new Point(moved.id(), elsewhere, moved.payload())));
            SearchFilter everyTicker = new SearchFilter(null, null, Set.copyOf(TestPoints.TICKERS));
            assertThat(store.search(target.vector(), 3, everyTicker)).extracting(Hit::id).doesNotContain(target.id());
            assertThat(store.search(moved.vector(), 3, everyTicker)).allSatisfy(h ->
                    assertThat(h.id().equals(moved.id())).as("overwritten vector no longer near its old place").isFalse());
            assertThat(store.search(elsewhere, 2, everyTicker)).extracting(Hit::id).contains(moved.id());
        }
    }

    @Test
    void untilIsExclusiveAndSinceInclusive() {
        float[] v = unit(new Random(10), DIM);
        try (var store = LuceneVectorStore.open(tmp.resolve("idx"), DIM)) {
            store.upsert(List.of(point(1, 0, v, T0, List.of()), point(2, 0, v, T0.plusSeconds(1), List.of())));
            assertThat(store.search(v, 5, new SearchFilter(T0, T0.plusSeconds(1), Set.of()))).extracting(Hit::id)
                    .containsExactly("1#0");
            assertThat(store.search(v, 5, new SearchFilter(T0.plusMillis(1), null, Set.of()))).extracting(Hit::id)
                    .containsExactly("2#0");
        }
    }

    @Test
    void searchesSeeUpsertsAtOnceAndCommitsSurviveReopening() {
        Path dir = tmp.resolve("idx");
        float[] v = unit(new Random(11), DIM);
        try (var store = LuceneVectorStore.open(dir, DIM)) {
            store.upsert(List.of(point(1, 0, v, T0, List.of())));
            assertThat(store.search(v, 1, SearchFilter.NONE)).extracting(Hit::id).containsExactly("1#0");
            store.commit();
            store.upsert(List.of(point(2, 0, unit(new Random(12), DIM), T0, List.of())));
            assertThat(store.count()).isEqualTo(2);
        }
        try (var reopened = LuceneVectorStore.open(dir, DIM); var reader = LuceneVectorStore.openReadOnly(dir)) {
            assertThat(reopened.count()).isEqualTo(2); // close() committed the second point
            assertThat(reader.count()).isEqualTo(2);
        }
    }

    @Test
    void anIndexWrittenWithOtherGraphParametersStaysReadableWritableAndMergeable() {
        Path dir = tmp.resolve("idx");
        List<Point> old = news(600, DIM, 21);
        try (var store = LuceneVectorStore.open(dir, DIM, new LuceneVectorStore.HnswParameters(8, 20))) {
            store.upsert(old.subList(0, 300));
            store.commit();
            store.upsert(old.subList(300, 600));
        }
        List<Point> added = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            added.add(point(5000 + i, 0, TestPoints.vectors(DIM, 22).vector(i), T0, List.of("AAPL")));
        }
        try (var store = LuceneVectorStore.open(dir, DIM, new LuceneVectorStore.HnswParameters(32, 200))) {
            store.upsert(added);
            store.commit();
            assertThat(store.segments()).isGreaterThanOrEqualTo(2);
            assertThat(store.count()).isEqualTo(900);
            for (Point p : List.of(old.get(0), old.get(599), added.get(0), added.get(299))) {
                assertThat(store.search(p.vector(), 1, SearchFilter.NONE)).extracting(Hit::id).containsExactly(p.id());
            }
            store.forceMerge(1); // the merged graph is rebuilt with the writer's parameters
            assertThat(store.segments()).isEqualTo(1);
            for (Point p : List.of(old.get(1), added.get(1))) {
                assertThat(store.search(p.vector(), 1, SearchFilter.NONE)).extracting(Hit::id).containsExactly(p.id());
            }
        }
        try (var reader = LuceneVectorStore.openReadOnly(dir)) {
            assertThat(reader.count()).isEqualTo(900);
        }
    }

    @Test
    void searchingEachSegmentInFullFindsTheSameNeighboursAsSharedPruning() {
        List<Point> points = news(1500, DIM, 23);
        try (var store = LuceneVectorStore.open(tmp.resolve("idx"), DIM)) {
            for (int s = 0; s < 3; s++) {
                store.upsert(points.subList(500 * s, 500 * (s + 1)));
                store.commit(); // one segment per commit: three graphs to search
            }
            assertThat(store.segments()).isEqualTo(3);
            ClusteredVectors topics = TestPoints.vectors(DIM, 23);
            for (boolean prune : new boolean[] {true, false}) {
                store.pruneAcrossSegments(prune);
                int found = 0;
                for (int q = 0; q < 30; q++) {
                    float[] query = topics.query(q);
                    List<String> exact = exactTop(points, query, 5, p -> true);
                    found += (int) store.search(query, 5, SearchFilter.NONE).stream().filter(h -> exact.contains(h.id())).count();
                }
                assertThat(found / 150.0).as("recall@5 with pruneAcrossSegments=" + prune).isGreaterThanOrEqualTo(0.98);
            }
        }
    }

    @Test
    void aSegmentGetsCandidatesInProportionToItsSize() {
        List<Point> points = news(5000, DIM, 25);
        try (var store = LuceneVectorStore.open(tmp.resolve("idx"), DIM)) {
            store.upsert(points);
            store.forceMerge(1);
            ClusteredVectors topics = TestPoints.vectors(DIM, 25);
            double[] recall = new double[2];
            int[] perMillion = {0, 10_000}; // 0: k=5 candidates; 10,000 per million: 50 for these 5,000 points
            for (int m = 0; m < 2; m++) {
                store.candidates(5).candidatesPerMillion(perMillion[m]);
                int found = 0;
                for (int q = 0; q < 60; q++) {
                    float[] query = topics.query(q);
                    List<String> exact = exactTop(points, query, 5, p -> true);
                    found += (int) store.search(query, 5, SearchFilter.NONE).stream().filter(h -> exact.contains(h.id())).count();
                }
                recall[m] = found / 300.0;
            }
            assertThat(recall[1]).isGreaterThanOrEqualTo(0.98).isGreaterThan(recall[0]);
        }
    }

    @Test
    void badGraphAndSearchSettingsAreRefusedWithTheirValue() {
        assertThatThrownBy(() -> new LuceneVectorStore.HnswParameters(1, 100)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxConn 1 is out of 2..512");
        assertThatThrownBy(() -> new LuceneVectorStore.HnswParameters(16, 5000)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("beamWidth 5000 is out of 1..3200");
        try (var store = LuceneVectorStore.open(tmp.resolve("idx"), DIM)) {
            assertThat(store.candidates()).isEqualTo(LuceneVectorStore.DEFAULT_CANDIDATES);
            assertThat(store.pruneAcrossSegments()).isFalse();
            assertThatThrownBy(() -> store.candidates(0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("candidates 0 is out of 1..10000");
            assertThat(store.candidates(120).candidates()).isEqualTo(120);
            assertThatThrownBy(() -> store.candidatesPerMillion(-1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("candidates per million -1 is out of 0..10000");
        }
    }

    @Test
    void readOnlyStoreFollowsAWritersCommitsAndRefusesWrites() throws Exception {
        Path dir = tmp.resolve("idx");
        try (var writer = LuceneVectorStore.open(dir, DIM); var reader = LuceneVectorStore.openReadOnly(dir)) {
            assertThat(reader.count()).isZero();
            writer.upsert(news(20, DIM, 13));
            writer.commit();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (reader.count() < 20 && System.nanoTime() < deadline) Thread.sleep(20);
            assertThat(reader.count()).isEqualTo(20);
            assertThat(reader.readOnly()).isTrue();
            assertThatThrownBy(() -> reader.upsert(news(1, DIM, 14))).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("read-only");
            assertThatThrownBy(() -> LuceneVectorStore.open(dir, DIM)).isInstanceOf(UserError.class)
                    .hasMessageContaining("already open for writing");
        }
    }

    @Test
    void badPointsAreRefusedWholeWithTheirIndexAndField() {
        Random random = new Random(15);
        try (var store = LuceneVectorStore.open(tmp.resolve("idx"), DIM)) {
            Point good = point(1, 0, unit(random, DIM), T0, List.of());
            float[] nan = unit(random, DIM);
            nan[17] = Float.NaN;
            float[] inf = unit(random, DIM);
            inf[3] = Float.POSITIVE_INFINITY;
            float[] fine = unit(random, DIM);
            float[] notUnit = unit(random, DIM).clone();
            for (int i = 0; i < DIM; i++) notUnit[i] *= 2;
            ChunkPayload payload = TestPoints.payload(2, 0, T0, List.of());
            ChunkPayload noTime = new ChunkPayload(2, 0, "t", "h", "s", "u", List.of(), "s", "a", null, null);
            record Case(Point bad, String message) {}
            List<Case> cases = List.of(
                    new Case(new Point("2#0", unit(random, 100), payload), "vector has 100 dimensions, the store holds 384"),
                    new Case(new Point("2#0", nan, payload), "component 17 is NaN"),
                    new Case(new Point("2#0", inf, payload), "component 3 is Infinity"),
                    new Case(new Point("2#0", notUnit, payload), "expected unit length"),
                    new Case(new Point("", fine, payload), "empty id"),
                    new Case(new Point("x".repeat(600), fine, payload), "id is 600 bytes long, at most 512"),
                    new Case(new Point("2#0", null, payload), "no vector"),
                    new Case(new Point("2#0", fine, null), "no payload"),
                    new Case(new Point("2#0", fine, noTime), "no created_at"));
            for (Case c : cases) {
                assertThatThrownBy(() -> store.upsert(List.of(good, c.bad())))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageStartingWith("point 1 of 2")
                        .hasMessageContaining(c.message());
                assertThat(store.count()).as("nothing of a refused batch is written").isZero();
            }
            assertThatThrownBy(() -> store.search(unit(random, 10), 5, SearchFilter.NONE))
                    .hasMessageContaining("query vector: vector has 10 dimensions");
            assertThatThrownBy(() -> store.search(unit(random, DIM), 0, SearchFilter.NONE)).hasMessageContaining("k must be");
            store.upsert(List.of(good));
            assertThat(store.count()).isEqualTo(1);
        }
    }

    @Test
    void unusableDirectoriesGiveErrorsNamingThem() throws IOException {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        assertThatThrownBy(() -> LuceneVectorStore.open(file, DIM)).isInstanceOf(UserError.class)
                .hasMessageContaining(file + ": is a file");
        Path home = Files.createDirectories(tmp.resolve("home"));
        Files.writeString(home.resolve("notes.txt"), "mine");
        assertThatThrownBy(() -> LuceneVectorStore.open(home, DIM)).isInstanceOf(UserError.class)
                .hasMessageContaining("is not empty and holds no vector index");
        assertThat(Files.list(home).count()).isEqualTo(1);
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertThatThrownBy(() -> LuceneVectorStore.openReadOnly(empty)).isInstanceOf(UserError.class)
                .hasMessageContaining("holds no vector index");
        assertThatThrownBy(() -> LuceneVectorStore.openReadOnly(tmp.resolve("missing"))).isInstanceOf(UserError.class)
                .hasMessageContaining("no such directory");

        Path idx = tmp.resolve("idx");
        try (var store = LuceneVectorStore.open(idx, DIM)) {
            store.upsert(news(10, DIM, 16));
        }
        assertThatThrownBy(() -> LuceneVectorStore.open(idx, 128)).isInstanceOf(UserError.class)
                .hasMessageContaining("holds 384-d vectors but 128-d were asked for");
    }

    @Test
    void aCorruptedIndexIsReportedNotCrashedOn() throws IOException {
        Path idx = tmp.resolve("idx");
        try (var store = LuceneVectorStore.open(idx, DIM)) {
            store.upsert(news(10, DIM, 17));
        }
        try (Stream<Path> files = Files.list(idx)) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("segments_")).toList()) {
                byte[] bytes = Files.readAllBytes(f);
                for (int i = 10; i < bytes.length; i += 7) bytes[i] ^= 0x5a;
                Files.write(f, bytes);
            }
        }
        assertThatThrownBy(() -> LuceneVectorStore.openReadOnly(idx)).isInstanceOf(UserError.class)
                .hasMessageContaining(idx + ": the vector index is")
                .hasMessageContaining("rebuild");
        assertThatThrownBy(() -> LuceneVectorStore.open(idx, DIM)).isInstanceOf(UserError.class)
                .hasMessageContaining(idx + ": the vector index is");
    }

    @Test
    void statsReportCountAndCreatedAtRange() throws IOException {
        Path idx = tmp.resolve("idx");
        try (var store = LuceneVectorStore.open(idx, DIM)) {
            store.upsert(news(30, DIM, 18));
            StoreStats stats = store.stats();
            assertThat(stats.kind()).isEqualTo("lucene");
            assertThat(stats.points()).isEqualTo(30);
            assertThat(stats.oldestCreatedAt()).isEqualTo(T0);
            assertThat(stats.newestCreatedAt()).isEqualTo(T0.plusSeconds(3600L * 29));
            assertThat(stats.articles()).isEqualTo(30);
            store.deleteArticle(1000);
            store.replaceArticle(1001, List.of(point(1001, 0, news(1, DIM, 5).get(0).vector(), T0, List.of("AAPL")),
                    point(1001, 1, news(1, DIM, 6).get(0).vector(), T0, List.of("AAPL"))));
            store.commit();
            assertThat(store.stats().points()).isEqualTo(30); // one article gone, another in two chunks
            assertThat(store.stats().articles()).isEqualTo(29);
        }
        try (var dir = FSDirectory.open(idx); var check = new CheckIndex(dir)) {
            assertThat(check.checkIndex().clean).isTrue();
        }
    }
}
