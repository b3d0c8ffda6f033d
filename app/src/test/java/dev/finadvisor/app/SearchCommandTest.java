package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.retrieval.ChunkPayload;
import dev.finadvisor.retrieval.LuceneVectorStore;
import dev.finadvisor.retrieval.MiniLmEmbedder;
import dev.finadvisor.retrieval.Point;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SearchCommandTest {
    @TempDir
    static Path tmp;
    static Path index;

    record News(long id, String headline, List<String> symbols, Duration age) {}

    @BeforeAll
    static void buildIndex() {
        Instant now = Instant.now();
        List<News> news = List.of(
                new News(1, "Nvidia beats quarterly profit estimates on data-center chip demand", List.of("NVDA"), Duration.ofHours(2)),
                new News(2, "Apple unveils new iPhone lineup at its September event", List.of("AAPL"), Duration.ofHours(5)),
                new News(3, "Oil prices slide as OPEC signals higher output", List.of("XOM", "CVX"), Duration.ofDays(3)),
                new News(4, "AMD chip sales surge as AI accelerators ship", List.of("AMD"), Duration.ofDays(10)),
                new News(5, "Microsoft cloud revenue growth beats expectations", List.of("MSFT"), Duration.ofHours(1)));
        index = tmp.resolve("index");
        try (var embedder = MiniLmEmbedder.load(); var store = LuceneVectorStore.open(index, 384)) {
            List<Point> points = new ArrayList<>();
            for (News n : news) {
                Instant created = now.minus(n.age());
                var payload = new ChunkPayload(n.id(), 0, n.headline() + ". More text of the article.", n.headline(),
                        "summary", "https://news.example/" + n.id(), n.symbols(), "benzinga", "A. Writer", created, created);
                points.add(new Point(payload.pointId(), embedder.embed(payload.text()), payload));
            }
            store.upsert(points);
            store.commit();
        }
    }

    @Test
    void printsTheNearestNewsWithScoreTimeSymbolsAndUrl() {
        var r = MainTest.run("search", "--store", index.toString(), "-k", "2", "which", "chip", "makers", "report", "strong", "earnings?");
        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines.get(0)).matches("1\\. 0\\.\\d{4}  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\dZ  \\[NVDA\\]  Nvidia beats .*");
        assertThat(lines.get(1)).contains("https://news.example/1");
        assertThat(lines.get(3)).startsWith("2. ").contains("[AMD]");
        assertThat(lines).hasSize(6);
    }

    @Test
    void sinceAndSymbolsFilterTheHits() throws Exception {
        var recent = MainTest.run("search", "--store", index.toString(), "--since", "24h", "--json", "-k", "10", "chip makers earnings");
        assertThat(recent.code()).as(recent.err()).isZero();
        JsonNode hits = new ObjectMapper().readTree(recent.out());
        List<Long> ids = new ArrayList<>();
        hits.forEach(h -> ids.add(h.get("article_id").asLong()));
        assertThat(ids).containsExactlyInAnyOrder(1L, 2L, 5L);
        assertThat(hits.get(0).get("headline").asText()).startsWith("Nvidia");
        assertThat(hits.get(0).get("score").asDouble()).isBetween(0.0, 1.0);

        var bySymbol = MainTest.run("search", "--store", index.toString(), "--symbols", "aapl,cvx", "--json", "chip makers earnings");
        List<Long> symbolIds = new ArrayList<>();
        new ObjectMapper().readTree(bySymbol.out()).forEach(h -> symbolIds.add(h.get("article_id").asLong()));
        assertThat(symbolIds).containsExactlyInAnyOrder(2L, 3L);

        var none = MainTest.run("search", "--store", index.toString(), "--since", "2099-01-01", "oil");
        assertThat(none.code()).isZero();
        assertThat(none.out()).contains("no hits: no stored news passes the filter");
    }

    @Test
    void badStoreOrSinceIsAOneLineUserError() throws Exception {
        var missing = MainTest.run("search", "--store", tmp.resolve("nope").toString(), "oil");
        assertThat(missing.code()).isEqualTo(Main.USER_ERROR);
        assertThat(missing.err().strip()).doesNotContain("\n").contains("nope: no such directory");

        Path notIndex = Files.createDirectories(tmp.resolve("not-an-index"));
        Files.writeString(notIndex.resolve("x.txt"), "x");
        var wrong = MainTest.run("search", "--store", notIndex.toString(), "oil");
        assertThat(wrong.code()).isEqualTo(Main.USER_ERROR);
        assertThat(wrong.err()).contains("holds no vector index");

        var since = MainTest.run("search", "--store", index.toString(), "--since", "yesterday", "oil");
        assertThat(since.code()).isEqualTo(Main.USER_ERROR);
        assertThat(since.err()).contains("--since 'yesterday': expected a duration");
    }
}
