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
        assertThat(c.hnsw()).isEqualTo(LuceneVectorStore.HnswParameters.DEFAULT);
        assertThat(c.candidates()).isEqualTo(LuceneVectorStore.DEFAULT_CANDIDATES);
        assertThat(c.pruneAcrossSegments()).isFalse();
        assertThat(c.candidatesPerMillion()).isEqualTo(LuceneVectorStore.DEFAULT_CANDIDATES_PER_MILLION);
        StoreConfig tuned = load("store:\n  hnsw_max_conn: 48\n  hnsw_beam_width: 300\n  prune_across_segments: true\n",
                "store.candidates=250");
        assertThat(tuned.pruneAcrossSegments()).isTrue();
        assertThat(tuned.hnsw()).isEqualTo(new LuceneVectorStore.HnswParameters(48, 300));
        assertThat(tuned.candidates()).isEqualTo(250);
    }

    @Test
    void badGraphAndSearchSettingsAreNamedByKey() {
        assertThatThrownBy(() -> load("store:\n  hnsw_max_conn: 1\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("'store.hnsw_max_conn' is 1, must be between 2 and 512");
        assertThatThrownBy(() -> load("store:\n  hnsw_beam_width: 0\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("'store.hnsw_beam_width' is 0, must be between 1 and 3200");
        assertThatThrownBy(() -> load("store:\n  candidates: 20000\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("'store.candidates' is 20000, must be between 1 and 10000");
        assertThatThrownBy(() -> load("store:\n  candidates_per_million: -1\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("'store.candidates_per_million' is -1, must be between 0 and 10000");
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
        assertThat(TimeWindow.since("--since", "24h", clock)).isEqualTo(Instant.parse("2026-03-09T12:00:00Z"));
        assertThat(TimeWindow.since("--since", "90m", clock)).isEqualTo(Instant.parse("2026-03-10T10:30:00Z"));
        assertThat(TimeWindow.since("--since", "7d", clock)).isEqualTo(Instant.parse("2026-03-03T12:00:00Z"));
        assertThat(TimeWindow.since("--since", "2w", clock)).isEqualTo(Instant.parse("2026-02-24T12:00:00Z"));
        assertThat(TimeWindow.since("--since", "2026-01-05", clock)).isEqualTo(Instant.parse("2026-01-05T00:00:00Z"));
        assertThat(TimeWindow.since("--since", "2026-01-05T14:30:00Z", clock)).isEqualTo(Instant.parse("2026-01-05T14:30:00Z"));
        assertThatThrownBy(() -> TimeWindow.since("--since", "24 hours", clock)).isInstanceOf(UserError.class)
                .hasMessageContaining("--since '24 hours'");
    }

    @Test
    void factoryOpensALuceneStoreForWritingThenForSearch() {
        StoreConfig base = StoreConfig.lucene(tmp.resolve("idx"));
        StoreConfig config = new StoreConfig(base.type(), base.path(), base.url(), base.collection(), base.batchSize(),
                base.maxRetries(), 24, 150, 175, 300, true);
        try (VectorStore w = VectorStores.openForWriting(config, 384)) {
            w.upsert(TestPoints.news(3, 384, 1));
            assertThat(((LuceneVectorStore) w).candidates()).isEqualTo(175);
            assertThat(((LuceneVectorStore) w).pruneAcrossSegments()).isTrue();
            assertThat(((LuceneVectorStore) w).candidatesPerMillion()).isEqualTo(300);
        }
        try (VectorStore r = VectorStores.openForSearch(config, 384)) {
            assertThat(r.count()).isEqualTo(3);
            assertThat(((LuceneVectorStore) r).candidates()).isEqualTo(175);
            assertThatThrownBy(() -> r.deleteArticle(1000)).hasMessageContaining("read-only");
        }
        assertThatThrownBy(() -> VectorStores.openForSearch(config, 128)).isInstanceOf(UserError.class)
                .hasMessageContaining("holds 384-d vectors");
    }
}
