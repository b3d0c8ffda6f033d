package dev.finadvisor.feature.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.UserError;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Alpaca's historical news endpoint ({@code GET /v1beta1/news}): one page per call, oldest first,
 * with content. Waits out 429 (Retry-After) and retries 5xx and broken connections with backoff;
 * a rejected key or a bad request is an error for the user.
 */
final class AlpacaRestClient {
    private static final Logger log = LoggerFactory.getLogger(AlpacaRestClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http;
    private final AlpacaSettings settings;
    private final AlpacaCredentials credentials;
    private final Backoff backoff;

    AlpacaRestClient(HttpClient http, AlpacaSettings settings, AlpacaCredentials credentials) {
        this.http = http;
        this.settings = settings;
        this.credentials = credentials;
        this.backoff = new Backoff(settings.backoffInitial(), settings.backoffMax());
    }

    /** The page of articles created in [from, to) ({@code to} null: until now) after {@code pageToken}. */
    NewsPage fetch(Instant from, Instant to, List<String> symbols, String pageToken) throws IOException, InterruptedException {
        URI uri = URI.create(settings.restUrl() + "?" + query(from, to, symbols, pageToken));
        HttpRequest request = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(30))
                .header("Accept", "application/json")
                .header("APCA-API-KEY-ID", credentials.keyId())
                .header("APCA-API-SECRET-KEY", credentials.secretKey())
                .GET().build();
        String lastProblem = "";
        for (int attempt = 0; attempt <= settings.maxRetries(); attempt++) {
            HttpResponse<String> response;
            try {
                response = http.send(request, HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                lastProblem = "connection failed: " + e;
                long wait = backoff.delayMillis(attempt);
                log.warn("Alpaca news REST {}: {}; retrying in {} ms", settings.restUrl(), lastProblem, wait);
                Thread.sleep(wait);
                continue;
            }
            int status = response.statusCode();
            if (status == 200) return parse(response.body(), uri);
            if (status == 429) {
                long wait = retryAfterMillis(response).orElse(backoff.delayMillis(attempt));
                lastProblem = "HTTP 429 (rate limited)";
                log.warn("Alpaca news REST rate limit (429); waiting {} ms as told", wait);
                Thread.sleep(wait);
                continue;
            }
            if (status >= 500) {
                long wait = backoff.delayMillis(attempt);
                lastProblem = "HTTP " + status + ": " + abbreviate(response.body());
                log.warn("Alpaca news REST {}; retrying in {} ms", lastProblem, wait);
                Thread.sleep(wait);
                continue;
            }
            if (status == 401 || status == 403) {
                throw new UserError("Alpaca news REST " + settings.restUrl() + " rejected the API key (HTTP " + status
                        + "): check ALPACA_API_KEY and ALPACA_API_SECRET");
            }
            throw new UserError("Alpaca news REST " + uri + " refused the request (HTTP " + status + "): " + abbreviate(response.body()));
        }
        throw new IOException("Alpaca news REST " + settings.restUrl() + " failed " + (settings.maxRetries() + 1)
                + " times; last: " + lastProblem);
    }

    private String query(Instant from, Instant to, List<String> symbols, String pageToken) {
        List<String> params = new ArrayList<>();
        if (from != null) params.add("start=" + enc(from.toString()));
        if (to != null) params.add("end=" + enc(to.toString()));
        if (!symbols.isEmpty()) params.add("symbols=" + enc(String.join(",", symbols)));
        params.add("limit=" + settings.pageLimit());
        params.add("sort=asc");
        params.add("include_content=true");
        if (pageToken != null) params.add("page_token=" + enc(pageToken));
        return String.join("&", params);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static NewsPage parse(String body, URI uri) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            throw new IOException("Alpaca news REST " + uri + " answered with a body that is not JSON: " + abbreviate(body), e);
        }
        JsonNode news = root == null ? null : root.get("news");
        if (news == null || !news.isArray()) {
            throw new IOException("Alpaca news REST " + uri + " answered without a 'news' list: " + abbreviate(body));
        }
        List<String> articles = new ArrayList<>(news.size());
        for (JsonNode n : news) articles.add(n.toString());
        JsonNode next = root.get("next_page_token");
        String token = next == null || next.isNull() || next.asText().isEmpty() ? null : next.asText();
        return new NewsPage(articles, token);
    }

    /** Retry-After as seconds or an HTTP date. */
    static Optional<Long> retryAfterMillis(HttpResponse<?> response) {
        Optional<String> header = response.headers().firstValue("Retry-After");
        if (header.isEmpty()) return Optional.empty();
        String v = header.get().strip();
        try {
            return Optional.of(Math.max(0, (long) (Double.parseDouble(v) * 1000)));
        } catch (NumberFormatException e) {
            try {
                long at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
                return Optional.of(Math.max(0, at - System.currentTimeMillis()));
            } catch (DateTimeParseException e2) {
                return Optional.empty();
            }
        }
    }

    private static String abbreviate(String s) {
        if (s == null) return "";
        s = s.strip();
        return s.length() <= 300 ? s : s.substring(0, 300) + "...";
    }
}
