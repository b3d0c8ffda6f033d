package dev.finadvisor.feature.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.http.HttpClient;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Alpaca's real-time news WebSocket: connect, authenticate, subscribe, then hand on every news
 * message. On a disconnect or a retriable error it reconnects with exponential backoff and jitter
 * and, once subscribed again, backfills from the REST API since the last article seen (minus an
 * overlap), skipping articles already handed on, so a gap loses nothing. A restored job does the same.
 */
final class StreamFeed implements NewsFeed {
    private static final Logger log = LoggerFactory.getLogger(StreamFeed.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int RECENT_KEYS = 512;
    private static final Duration POLL = Duration.ofMillis(200);
    // Errors that a reconnect cannot fix: invalid syntax, not authenticated, auth failed, symbol limit, no subscription.
    private static final Set<Integer> FATAL_CODES = Set.of(400, 401, 402, 405, 409);

    private enum Phase { AWAIT_CONNECTED, AWAIT_AUTHENTICATED, AWAIT_SUBSCRIPTION, STREAMING }

    private final AlpacaSettings settings;
    private final AlpacaCredentials credentials;
    private final StreamSplit start;
    private final LinkedHashSet<String> recent;
    private Instant lastSeenAt;
    private int failures;
    private long messages;
    private long emitted;

    StreamFeed(StreamSplit split, AlpacaSettings settings, AlpacaCredentials credentials) {
        if (credentials == null) throw new IllegalArgumentException("the Alpaca news stream needs credentials");
        this.settings = settings;
        this.credentials = credentials;
        this.start = split;
        this.lastSeenAt = split.lastSeenAt();
        this.recent = new LinkedHashSet<>(split.recentKeys());
    }

    @Override
    public void run(FeedOutput out) throws Exception {
        HttpClient http = AlpacaClients.http();
        AlpacaRestClient rest = new AlpacaRestClient(http, settings, credentials);
        Backoff backoff = new Backoff(settings.backoffInitial(), settings.backoffMax());
        while (true) {
            String why;
            try (AlpacaNewsSocket socket = AlpacaNewsSocket.connect(http, settings.streamUrl(), settings.controlTimeout())) {
                why = session(socket, rest, out);
            } catch (InterruptedException | AlpacaStreamRejected e) {
                throw e;
            } catch (Exception e) {
                why = "cannot connect: " + e;
            }
            long wait = backoff.delayMillis(failures++);
            log.warn("Alpaca news stream {}: {}; reconnecting in {} ms (attempt {})", settings.streamUrl(), why, wait, failures);
            Thread.sleep(wait);
        }
    }

    /** One connection, until it ends; returns why it ended. */
    private String session(AlpacaNewsSocket socket, AlpacaRestClient rest, FeedOutput out) throws Exception {
        Phase phase = Phase.AWAIT_CONNECTED;
        long deadline = System.currentTimeMillis() + settings.controlTimeout().toMillis();
        while (true) {
            AlpacaNewsSocket.Event event = socket.next(POLL);
            if (event == null) {
                if (phase != Phase.STREAMING && System.currentTimeMillis() > deadline) {
                    return "no answer in " + settings.controlTimeout().toMillis() + " ms while in " + phase;
                }
                continue;
            }
            if (event.closed()) return event.closedReason();
            messages++;
            JsonNode root;
            try {
                root = JSON.readTree(event.text());
            } catch (IOException e) {
                root = null;
            }
            if (root == null || !root.isArray()) {
                // Not Alpaca's framing: hand it on so it lands in the dead letters with its reason.
                out.emit(new IncomingNews(event.text(), "alpaca-stream message " + messages, event.receivedAtMillis()), split());
                continue;
            }
            for (JsonNode m : root) {
                String type = m.path("T").asText("");
                switch (type) {
                    case "success" -> {
                        String msg = m.path("msg").asText("");
                        if (msg.equals("connected") && phase == Phase.AWAIT_CONNECTED) {
                            ObjectNode auth = JsonNodeFactory.instance.objectNode()
                                    .put("action", "auth").put("key", credentials.keyId()).put("secret", credentials.secretKey());
                            socket.send(auth.toString());
                            phase = Phase.AWAIT_AUTHENTICATED;
                        } else if (msg.equals("authenticated") && phase == Phase.AWAIT_AUTHENTICATED) {
                            ObjectNode subscribe = JsonNodeFactory.instance.objectNode().put("action", "subscribe");
                            var news = subscribe.putArray("news");
                            if (start.symbols().isEmpty()) news.add("*");
                            else start.symbols().forEach(news::add);
                            socket.send(subscribe.toString());
                            phase = Phase.AWAIT_SUBSCRIPTION;
                        }
                        deadline = System.currentTimeMillis() + settings.controlTimeout().toMillis();
                    }
                    case "subscription" -> {
                        if (phase == Phase.AWAIT_SUBSCRIPTION) {
                            phase = Phase.STREAMING;
                            failures = 0;
                            log.info("Alpaca news stream subscribed: {}", m.path("news"));
                            if (lastSeenAt != null) backfillGap(rest, out);
                        }
                    }
                    case "error" -> {
                        int code = m.path("code").asInt(0);
                        String msg = m.path("msg").asText("");
                        if (FATAL_CODES.contains(code)) {
                            throw new AlpacaStreamRejected("Alpaca news stream " + settings.streamUrl() + " refused: error " + code + " '" + msg + "'"
                                    + (code == 402 || code == 401 ? ": check ALPACA_API_KEY and ALPACA_API_SECRET" : "")
                                    + (code == 409 ? ": the account's data subscription does not include news" : ""));
                        }
                        return "error " + code + " '" + msg + "'";
                    }
                    case "n" -> emitNews(m, "alpaca-stream message " + messages, event.receivedAtMillis(), out);
                    default -> log.debug("Alpaca news stream: ignoring message of type '{}'", type);
                }
            }
        }
    }

    /** After a (re)subscription: the articles created since the last one seen, from REST, oldest first. */
    private void backfillGap(AlpacaRestClient rest, FeedOutput out) throws Exception {
        Instant from = lastSeenAt.minus(settings.gapOverlap());
        String token = null;
        int pages = 0;
        long emittedBefore = emitted;
        do {
            NewsPage page = rest.fetch(from, null, start.symbols(), token);
            pages++;
            for (String article : page.articles()) {
                JsonNode node;
                try {
                    node = JSON.readTree(article);
                } catch (IOException e) {
                    node = null;
                }
                if (node == null) {
                    out.emit(new IncomingNews(article, "alpaca-rest gap backfill page " + pages, System.currentTimeMillis()), split());
                } else {
                    emitNews(node, "alpaca-rest gap backfill page " + pages, System.currentTimeMillis(), out);
                }
            }
            token = page.nextPageToken();
        } while (token != null);
        log.info("Alpaca news stream: backfilled {} articles missed since {} ({} pages)", emitted - emittedBefore, from, pages);
    }

    private void emitNews(JsonNode m, String origin, long receivedAt, FeedOutput out) throws InterruptedException {
        long id = m.path("id").asLong(0);
        String key = id + "@" + m.path("updated_at").asText("");
        if (id > 0 && !recent.add(key)) return; // already handed on (a backfill overlapping the stream)
        if (recent.size() > RECENT_KEYS) {
            Iterator<String> oldest = recent.iterator();
            oldest.next();
            oldest.remove();
        }
        Instant created = time(m.path("created_at").asText(""));
        if (created != null && (lastSeenAt == null || created.isAfter(lastSeenAt))) lastSeenAt = created;
        emitted++;
        out.emit(new IncomingNews(m.toString(), origin, receivedAt), split());
    }

    private StreamSplit split() {
        return new StreamSplit(start.symbols(), lastSeenAt, new ArrayList<>(recent));
    }

    private static Instant time(String s) {
        try {
            return s.isEmpty() ? null : OffsetDateTime.parse(s).toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
