package dev.finadvisor.inference;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.finadvisor.retrieval.Embedder;
import dev.finadvisor.retrieval.Hit;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Retrieval when the store's symbol listing fails at run time (e.g. Qdrant unreachable): the search
 * goes on without a symbol filter (or with the symbols last read) and a warning is logged.
 */
class StoreSymbolsTest {
    static final Instant NOW = Instant.parse("2026-11-20T12:00:00Z");
    static final Duration WEEK = Duration.ofDays(7);

    private final MemoryVectorStore store = new MemoryVectorStore();
    private final Embedder embedder = new WordHashEmbedder();
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(StoreSymbols.class);

    @BeforeEach
    void setUp() {
        NewsFixture.load(store, embedder, NOW);
        logged.start();
        logger.addAppender(logged);
    }

    @AfterEach
    void tearDown() {
        logger.detachAppender(logged);
    }

    private NewsRetriever retriever(StoreSymbols symbols) {
        return new NewsRetriever(embedder, store, symbols, new SymbolDetector(Map.of()), 50, true, Clock.fixed(NOW, ZoneOffset.UTC));
    }

    private static Set<Long> articles(Retrieval r) {
        return r.articles().stream().map(Hit::payload).map(p -> p.articleId()).collect(java.util.stream.Collectors.toSet());
    }

    @Test
    void aHealthyStoreTurnsANamedTickerIntoAFilter() {
        Retrieval r = retriever(new StoreSymbols(store, Duration.ofHours(1))).retrieve("Should I buy AAPL now?", 3, WEEK);
        assertThat(r.symbols()).containsExactly("AAPL");
        assertThat(articles(r)).containsExactly(1L);
        assertThat(logged.list).isEmpty();
    }

    @Test
    void aFailingListingSearchesWithoutTheFilterLogsAWarningAndIsNotRetriedBeforeTheTtl() {
        store.failSymbolListing(new UncheckedIOException(new java.io.IOException("Qdrant list symbols on qdrant:6334/news failed: UNAVAILABLE")));
        NewsRetriever retriever = retriever(new StoreSymbols(store, Duration.ofHours(1)));

        Retrieval r = retriever.retrieve("Should I buy AAPL now?", 3, WEEK);
        assertThat(r.symbols()).isEmpty();
        assertThat(articles(r)).as("unfiltered: articles of other tickers too").hasSize(3);
        assertThat(logged.list).singleElement().satisfies(e -> {
            assertThat(e.getLevel()).isEqualTo(Level.WARN);
            assertThat(e.getFormattedMessage()).contains("listing the news store's symbols failed")
                    .contains("without a symbol filter").contains("UNAVAILABLE");
        });

        retriever.retrieve("And TSLA?", 3, WEEK);
        assertThat(store.symbolListings()).as("a hanging store costs one request per ttl, not every request").isEqualTo(1);
    }

    @Test
    void aListingThatFailsLaterKeepsTheLastSymbolsAndRecoversAfterTheTtl() throws InterruptedException {
        Duration ttl = Duration.ofMillis(50);
        NewsRetriever retriever = retriever(new StoreSymbols(store, ttl));
        assertThat(retriever.retrieve("Is TSLA a buy?", 3, WEEK).symbols()).containsExactly("TSLA");

        store.failSymbolListing(new IllegalStateException("Qdrant list symbols failed: INTERNAL"));
        Thread.sleep(ttl.toMillis() * 2);
        Retrieval stale = retriever.retrieve("Is TSLA a buy?", 3, WEEK);
        assertThat(stale.symbols()).containsExactly("TSLA");
        assertThat(articles(stale)).containsExactly(2L);
        assertThat(store.symbolListings()).isEqualTo(2);
        assertThat(logged.list).singleElement().satisfies(e ->
                assertThat(e.getFormattedMessage()).contains("with the 4 symbols last read").contains("INTERNAL"));

        store.failSymbolListing(null);
        Thread.sleep(ttl.toMillis() * 2);
        assertThat(retriever.retrieve("What about NVDA?", 3, WEEK).symbols()).containsExactly("NVDA");
        assertThat(store.symbolListings()).isEqualTo(3);
    }

    @Test
    void whileOneRequestWaitsForAHangingListingOthersAnswerWithTheLastSymbols() throws Exception {
        Duration ttl = Duration.ofMillis(20);
        StoreSymbols symbols = new StoreSymbols(store, ttl);
        assertThat(symbols.get()).hasSize(4);
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        store.beforeSymbolListing(() -> {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("Qdrant list symbols failed: DEADLINE_EXCEEDED");
        });
        Thread.sleep(ttl.toMillis() * 2);
        var pool = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            var stuck = pool.submit(symbols::get);
            assertThat(entered.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            // Not blocked behind the hanging listing (this would wait forever otherwise: the latch is not released yet).
            var other = java.util.concurrent.CompletableFuture.supplyAsync(symbols::get);
            assertThat(other.get(10, java.util.concurrent.TimeUnit.SECONDS)).hasSize(4);
            assertThat(store.symbolListings()).isEqualTo(2);
            release.countDown();
            assertThat(stuck.get(10, java.util.concurrent.TimeUnit.SECONDS)).hasSize(4);
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
    }

    /** Bag of words hashed into 384 dimensions, normalised: enough for word-overlap ranking, no model needed. */
    static final class WordHashEmbedder implements Embedder {
        @Override
        public int dimension() {
            return 384;
        }

        @Override
        public int countTokens(String text) {
            return text.isBlank() ? 0 : text.strip().split("\\s+").length;
        }

        @Override
        public int maxTokens() {
            return 256;
        }

        @Override
        public float[] embed(String text) {
            float[] v = new float[384];
            for (String w : text.toLowerCase(Locale.ROOT).split("[^a-z0-9]+")) {
                if (!w.isEmpty()) v[Math.floorMod(w.hashCode(), 384)] += 1;
            }
            v[0] += 0.01f; // never the zero vector
            double norm = 0;
            for (float x : v) norm += x * x;
            for (int i = 0; i < v.length; i++) v[i] /= (float) Math.sqrt(norm);
            return v;
        }

        @Override
        public List<float[]> embedAll(List<String> texts) {
            return texts.stream().map(this::embed).toList();
        }
    }
}
