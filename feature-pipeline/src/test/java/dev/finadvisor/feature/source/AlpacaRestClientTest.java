package dev.finadvisor.feature.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.feature.testing.Articles;
import dev.finadvisor.feature.testing.FakeAlpaca;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AlpacaRestClientTest {
    static final Instant T0 = Instant.parse("2024-05-01T12:00:00Z");
    FakeAlpaca alpaca;

    @BeforeEach
    void start() throws Exception {
        alpaca = new FakeAlpaca();
        for (int i = 0; i < 7; i++) alpaca.addToHistory(Articles.onTopic(100 + i, i, T0.plusSeconds(60L * i)));
    }

    @AfterEach
    void stop() throws Exception {
        alpaca.close();
    }

    List<String> drain(BackfillFeed feed) throws Exception {
        List<String> out = new ArrayList<>();
        feed.run((news, after) -> out.add(news.json()));
        return out;
    }

    @Test
    void backfillPagesThroughTheRangeOldestFirstSendingKeysAndParameters() throws Exception {
        BackfillFeed feed = new BackfillFeed(new BackfillSplit(T0, T0.plusSeconds(300), List.of(), null, 0),
                AlpacaClients.rest(alpaca.settings(), FakeAlpaca.credentials()));
        List<String> got = drain(feed);
        assertThat(got).hasSize(6); // created at +0..+300 s inclusive
        assertThat(got.get(0)).contains("\"id\":100");
        assertThat(got.get(5)).contains("\"id\":105");
        assertThat(alpaca.restQueries).hasSize(2); // page limit 3
        assertThat(alpaca.restQueries.get(0)).contains("start=2024-05-01T12%3A00%3A00Z").contains("end=2024-05-01T12%3A05%3A00Z")
                .contains("limit=3").contains("sort=asc").contains("include_content=true").doesNotContain("page_token");
        assertThat(alpaca.restQueries.get(1)).contains("page_token=");
    }

    @Test
    void waitsOutA429WithRetryAfterAndRetriesServerErrors() throws Exception {
        alpaca.failNextRest(429, 1);
        alpaca.failNextRest(503, 0);
        BackfillFeed feed = new BackfillFeed(new BackfillSplit(T0, null, List.of("SYM2", "SYM4"), null, 0),
                AlpacaClients.rest(alpaca.settings(), FakeAlpaca.credentials()));
        long start = System.nanoTime();
        List<String> got = drain(feed);
        assertThat((System.nanoTime() - start) / 1e6).as("waited the Retry-After second").isGreaterThanOrEqualTo(950);
        assertThat(got).hasSize(2);
        assertThat(alpaca.restQueries).hasSize(3);
        assertThat(alpaca.restQueries.get(2)).contains("symbols=SYM2%2CSYM4");
    }

    @Test
    void resumesInsideThePageItsCursorPointsAt() throws Exception {
        AlpacaRestClient rest = AlpacaClients.rest(alpaca.settings(), FakeAlpaca.credentials());
        List<NewsSplit> cursors = new ArrayList<>();
        List<String> all = new ArrayList<>();
        new BackfillFeed(new BackfillSplit(T0, null, List.of(), null, 0), rest).run((news, after) -> {
            all.add(news.json());
            cursors.add(after);
        });
        assertThat(all).hasSize(7);
        BackfillSplit afterFour = (BackfillSplit) cursors.get(3);
        List<String> rest4 = new ArrayList<>();
        new BackfillFeed(afterFour, rest).run((news, after) -> rest4.add(news.json()));
        assertThat(rest4).isEqualTo(all.subList(4, 7));
    }

    @Test
    void aRejectedKeyIsAUserErrorNotARetryLoop() {
        alpaca.rejectAllKeys();
        BackfillFeed feed = new BackfillFeed(new BackfillSplit(T0, null, List.of(), null, 0),
                AlpacaClients.rest(alpaca.settings(), FakeAlpaca.credentials()));
        assertThatThrownBy(() -> drain(feed)).isInstanceOf(UserError.class)
                .hasMessageContaining("HTTP 403").hasMessageContaining("ALPACA_API_KEY");
        assertThat(alpaca.restQueries).hasSize(1);
    }

    @Test
    void givesUpAfterTheConfiguredRetriesNamingTheLastProblem() {
        for (int i = 0; i < 10; i++) alpaca.failNextRest(500, 0);
        BackfillFeed feed = new BackfillFeed(new BackfillSplit(T0, null, List.of(), null, 0),
                AlpacaClients.rest(alpaca.settings(), FakeAlpaca.credentials()));
        assertThatThrownBy(() -> drain(feed)).hasMessageContaining("failed 6 times").hasMessageContaining("HTTP 500");
    }
}
