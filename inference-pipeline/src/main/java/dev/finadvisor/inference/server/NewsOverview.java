package dev.finadvisor.inference.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.inference.NewsRetriever;
import dev.finadvisor.retrieval.HitJson;
import dev.finadvisor.retrieval.SearchFilter;
import dev.finadvisor.retrieval.StoreStats;
import dev.finadvisor.retrieval.TimeWindow;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The news store as the API shows it ({@code /v1/news}, {@code /v1/news/search}): what it holds, how fresh it is, what
 * the feature pipeline last reported ({@code metrics.json} in its state folder), and search with the filters of
 * {@code finadvisor search}.
 */
final class NewsOverview {
    /** The ingest job rewrites metrics.json every sink.metrics_log_interval_s (10 s by default): older means stopped. */
    static final Duration RUNNING_WITHIN = Duration.ofMinutes(2);
    static final int MAX_K = 100;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path ingestMetrics;
    private final Clock clock;

    NewsOverview(Path ingestState, Clock clock) {
        this.ingestMetrics = ingestState.resolve("metrics.json");
        this.clock = clock;
    }

    ObjectNode overview(NewsRetriever news) {
        StoreStats stats = news.storeStats();
        Instant now = clock.instant();
        ObjectNode out = JSON.createObjectNode();
        out.put("store", stats.kind());
        out.put("location", stats.location());
        out.put("chunks", stats.points());
        if (stats.articles() == null) out.putNull("articles");
        else out.put("articles", stats.articles());
        out.put("oldest_created_at", stats.oldestCreatedAt() == null ? null : stats.oldestCreatedAt().toString());
        out.put("newest_created_at", stats.newestCreatedAt() == null ? null : stats.newestCreatedAt().toString());
        if (stats.newestCreatedAt() != null) out.put("newest_age_s", Duration.between(stats.newestCreatedAt(), now).toSeconds());
        out.set("ingest", ingest(now));
        return out;
    }

    /** The ingest job's last report with whether it is still running (reported within two minutes), or a note why there is none. */
    private JsonNode ingest(Instant now) {
        ObjectNode out = JSON.createObjectNode();
        out.put("metrics_file", ingestMetrics.toAbsolutePath().toString());
        try {
            JsonNode metrics = JSON.readTree(Files.readAllBytes(ingestMetrics));
            if (!(metrics instanceof ObjectNode m)) throw new IOException("not a JSON object");
            out.setAll(m);
            Instant updated = Instant.parse(m.path("updated_at").asText());
            out.put("age_s", Duration.between(updated, now).toSeconds());
            // A job that ends says so in its last report; one killed never does, so an old report means stopped too.
            out.put("running", m.path("running").asBoolean(true) && Duration.between(updated, now).compareTo(RUNNING_WITHIN) <= 0);
        } catch (NoSuchFileException e) {
            out.put("running", false);
            out.put("note", "no ingest run has written " + ingestMetrics.getFileName() + " there yet");
        } catch (IOException | RuntimeException e) {
            out.put("running", false);
            out.put("note", "unreadable: " + e.getMessage());
        }
        return out;
    }

    /** {@code q} (required), {@code since} (24h, a date or an instant), {@code symbols} (comma-separated), {@code k}. */
    ObjectNode search(NewsRetriever news, Map<String, String> query) {
        String q = query.getOrDefault("q", "").strip();
        if (q.isEmpty()) throw new ApiException(400, "invalid_request_error", "q", "q is empty: give the text to search the news for");
        Instant since = null;
        String window = query.get("since");
        if (window != null && !window.isBlank()) {
            try {
                since = TimeWindow.since("since", window, clock);
            } catch (UserError e) {
                throw new ApiException(400, "invalid_request_error", "since", e.getMessage());
            }
        }
        Set<String> symbols = new LinkedHashSet<>();
        for (String s : query.getOrDefault("symbols", "").split(",")) {
            if (!s.isBlank()) symbols.add(s.strip().toUpperCase(Locale.ROOT));
        }
        int k = 5;
        String given = query.get("k");
        if (given != null && !given.isBlank()) {
            try {
                k = Integer.parseInt(given.strip());
            } catch (NumberFormatException e) {
                k = -1;
            }
            if (k < 1 || k > MAX_K) throw new ApiException(400, "invalid_request_error", "k", "k is '" + given + "'; expected 1 to " + MAX_K);
        }
        ObjectNode out = JSON.createObjectNode();
        out.set("hits", HitJson.of(news.search(q, k, new SearchFilter(since, null, symbols))));
        return out;
    }
}
