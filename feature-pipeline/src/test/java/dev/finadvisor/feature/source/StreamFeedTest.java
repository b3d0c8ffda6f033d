package dev.finadvisor.feature.source;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.feature.testing.Articles;
import dev.finadvisor.feature.testing.FakeAlpaca;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class StreamFeedTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration WAIT = Duration.ofSeconds(15);
    FakeAlpaca alpaca;
    final List<IncomingNews> got = Collections.synchronizedList(new ArrayList<>());
    final AtomicReference<NewsSplit> cursor = new AtomicReference<>();
    final AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread thread;

    @BeforeEach
    void start() throws Exception {
        alpaca = new FakeAlpaca();
    }

    @AfterEach
    void stop() throws Exception {
        if (thread != null) {
            thread.interrupt();
            thread.join(5000);
        }
        alpaca.close();
    }

    void run(StreamSplit split, AlpacaCredentials credentials) {
        StreamFeed feed = new StreamFeed(split, alpaca.settings(), credentials);
        thread = new Thread(() -> {
            try {
                feed.run((news, after) -> {
                    got.add(news);
                    cursor.set(after);
                });
            } catch (InterruptedException e) {
                // stopped by the test
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        thread.start();
    }

    List<Long> ids() {
        List<Long> ids = new ArrayList<>();
        synchronized (got) {
            for (IncomingNews n : got) {
                try {
                    ids.add(JSON.readTree(n.json()).path("id").asLong());
                } catch (Exception e) {
                    ids.add(-1L); // not JSON: a dead letter in the making
                }
            }
        }
        return ids;
    }

    @Test
    void authenticatesSubscribesAndAssemblesMessagesSentInSeveralFrames() throws Exception {
        run(new StreamSplit(List.of("AAPL", "TSLA"), null, List.of()), FakeAlpaca.credentials());
        alpaca.awaitSubscribed(WAIT);
        assertThat(alpaca.clientMessages.get(0)).isEqualTo("{\"action\":\"auth\",\"key\":\"PKTEST123\",\"secret\":\"s3cr3t-test\"}");
        assertThat(alpaca.clientMessages.get(1)).isEqualTo("{\"action\":\"subscribe\",\"news\":[\"AAPL\",\"TSLA\"]}");
        Instant t = Instant.parse("2024-05-01T12:00:00Z");
        alpaca.publish(Articles.onTopic(1, 0, t), 1);
        alpaca.publish(Articles.onTopic(2, 1, t.plusSeconds(1)), 7); // one message in 7 frames
        FakeAlpaca.await(WAIT, () -> got.size() == 2, "two articles");
        assertThat(ids()).containsExactly(1L, 2L);
        assertThat(got.get(1).json()).contains("Federal Reserve");
        StreamSplit after = (StreamSplit) cursor.get();
        assertThat(after.lastSeenAt()).isEqualTo(t.plusSeconds(1));
        assertThat(after.recentKeys()).containsExactly("1@" + t, "2@" + t.plusSeconds(1));
    }

    @Test
    void aDisconnectLosesNothingTheReconnectBackfillsTheGapWithoutDuplicates() throws Exception {
        run(new StreamSplit(List.of(), null, List.of()), FakeAlpaca.credentials());
        alpaca.awaitSubscribed(WAIT);
        Instant t = Instant.parse("2024-05-01T12:00:00Z");
        for (int i = 1; i <= 3; i++) alpaca.publish(Articles.onTopic(i, i, t.plusSeconds(i)), 2);
        FakeAlpaca.await(WAIT, () -> got.size() == 3, "three articles before the drop");
        alpaca.dropConnection();
        // Published while the client is away: only the REST history has them.
        for (int i = 4; i <= 8; i++) alpaca.publish(Articles.onTopic(i, i, t.plusSeconds(i)), 1);
        FakeAlpaca.await(WAIT, () -> alpaca.connections.get() == 2, "a reconnect");
        alpaca.awaitSubscribed(WAIT);
        for (int i = 9; i <= 10; i++) alpaca.publish(Articles.onTopic(i, i, t.plusSeconds(i)), 1);
        FakeAlpaca.await(WAIT, () -> got.size() >= 10, "all ten articles");
        Thread.sleep(300);
        assertThat(ids()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
        assertThat(alpaca.restQueries).isNotEmpty();
        assertThat(alpaca.restQueries.get(0)).contains("start=2024-05-01T11%3A59%3A03Z"); // last seen minus the 60 s overlap
        assertThat(failure.get()).isNull();
    }

    @Test
    void aRestoredCursorBackfillsWhatWasPublishedWhileTheJobWasDown() throws Exception {
        Instant t = Instant.parse("2024-05-01T12:00:00Z");
        var first = Articles.onTopic(1, 1, t);
        alpaca.addToHistory(first, Articles.onTopic(2, 2, t.plusSeconds(5)), Articles.onTopic(3, 3, t.plusSeconds(9)));
        run(new StreamSplit(List.of(), t, List.of("1@" + t)), FakeAlpaca.credentials());
        FakeAlpaca.await(WAIT, () -> got.size() == 2, "the two missed articles");
        Thread.sleep(200);
        assertThat(ids()).containsExactly(2L, 3L);
        assertThat(got.get(0).origin()).startsWith("alpaca-rest gap backfill");
    }

    @Test
    void malformedMessagesAreHandedOnForTheDeadLetters() throws Exception {
        run(new StreamSplit(List.of(), null, List.of()), FakeAlpaca.credentials());
        alpaca.awaitSubscribed(WAIT);
        alpaca.sendRaw("this is not json");
        alpaca.sendRaw("[{\"T\":\"n\",\"headline\":\"no id\"}]");
        FakeAlpaca.await(WAIT, () -> got.size() == 2, "two bad messages");
        assertThat(got.get(0).json()).isEqualTo("this is not json");
        assertThat(got.get(1).json()).contains("no id");
    }

    @Test
    void aRejectedKeyStopsTheFeedWithAnErrorNamingTheVariables() throws Exception {
        alpaca.rejectAllKeys();
        run(new StreamSplit(List.of(), null, List.of()), new AlpacaCredentials("wrong", FakeAlpaca.SECRET));
        FakeAlpaca.await(WAIT, () -> failure.get() != null, "the feed to fail");
        assertThat(failure.get()).isInstanceOf(AlpacaStreamRejected.class)
                .hasMessageContaining("error 402 'auth failed'").hasMessageContaining("ALPACA_API_KEY");
    }
}
