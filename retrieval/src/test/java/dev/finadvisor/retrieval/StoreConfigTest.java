package dev.finadvisor.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.config.ConfigException;
import dev.finadvisor.domain.config.ConfigLoader;
import dev.finadvisor.domain.config.Problems;
import dev.finadvisor.domain.config.Validated;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreConfigTest {
    record Job(@JsonProperty("store") StoreConfig store) implements Validated {
        @Override
        public void validate(Problems problems) {
            problems.nested("store", store);
        }
    }

    @TempDir
    Path tmp;

    private StoreConfig load(String yaml, String... overrides) throws Exception {
        Path file = Files.writeString(tmp.resolve("job.yaml"), yaml);
        return new ConfigLoader().load(Job.class, null, file, List.of(overrides)).value().store();
    }

    @Test
    void missingKeysKeepTheDefaults() throws Exception {
        StoreConfig c = load("store:\n  type: qdrant\n  collection: news\n");
        assertThat(c).isEqualTo(new StoreConfig("qdrant", StoreConfig.DEFAULT.path(), "http://localhost:6334", "news", 256, 3));
        assertThat(load("store:\n  path: /x/y\n", "store.batch_size=8").batchSize()).isEqualTo(8);
    }

    @Test
    void badValuesAreNamedByKey() {
        assertThatThrownBy(() -> load("store:\n  type: chroma\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("'store.type'").hasMessageContaining("chroma");
        assertThatThrownBy(() -> load("store:\n  type: qdrant\n  url: localhost\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("'store.url' is 'localhost', expected http://HOST:PORT");
        assertThatThrownBy(() -> load("store:\n  batch_size: 0\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("'store.batch_size' is 0");
    }

    @Test
    void sinceTakesDurationsDatesAndInstants() {
        Clock clock = Clock.fixed(Instant.parse("2026-03-10T12:00:00Z"), ZoneOffset.UTC);
        assertThat(TimeWindow.since("24h", clock)).isEqualTo(Instant.parse("2026-03-09T12:00:00Z"));
        assertThat(TimeWindow.since("90m", clock)).isEqualTo(Instant.parse("2026-03-10T10:30:00Z"));
        assertThat(TimeWindow.since("7d", clock)).isEqualTo(Instant.parse("2026-03-03T12:00:00Z"));
        assertThat(TimeWindow.since("2w", clock)).isEqualTo(Instant.parse("2026-02-24T12:00:00Z"));
        assertThat(TimeWindow.since("2026-01-05", clock)).isEqualTo(Instant.parse("2026-01-05T00:00:00Z"));
        assertThat(TimeWindow.since("2026-01-05T14:30:00Z", clock)).isEqualTo(Instant.parse("2026-01-05T14:30:00Z"));
        assertThatThrownBy(() -> TimeWindow.since("24 hours", clock)).isInstanceOf(UserError.class)
                .hasMessageContaining("--since '24 hours'");
    }

    @Test
    void factoryOpensALuceneStoreForWritingThenForSearch() {
        StoreConfig config = StoreConfig.lucene(tmp.resolve("idx"));
        try (VectorStore w = VectorStores.openForWriting(config, 384)) {
            w.upsert(TestPoints.news(3, 384, 1));
        }
        try (VectorStore r = VectorStores.openForSearch(config, 384)) {
            assertThat(r.count()).isEqualTo(3);
            assertThatThrownBy(() -> r.deleteArticle(1000)).hasMessageContaining("read-only");
        }
        assertThatThrownBy(() -> VectorStores.openForSearch(config, 128)).isInstanceOf(UserError.class)
                .hasMessageContaining("holds 384-d vectors");
    }
}
