package dev.finadvisor.feature.process;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.news.NewsArticle;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses one Alpaca news object (REST item, WebSocket {@code "T":"n"} message or JSON Lines row)
 * and checks it is usable: every problem is named with its field, so a dead letter says what to fix.
 */
public final class NewsParser {
    private static final ObjectMapper JSON = new ObjectMapper();

    private NewsParser() {}

    public static NewsArticle parse(String json) throws InvalidArticle {
        if (json == null || json.isBlank()) throw new InvalidArticle("empty message");
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new InvalidArticle("not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " at column " + e.getLocation().getColumnNr()));
        }
        return parse(node);
    }

    public static NewsArticle parse(JsonNode node) throws InvalidArticle {
        if (node == null || !node.isObject()) throw new InvalidArticle("expected a JSON object (an Alpaca news article)");
        List<String> problems = new ArrayList<>();
        long id = 0;
        JsonNode idNode = node.get("id");
        if (idNode == null || idNode.isNull()) {
            problems.add("field 'id': missing");
        } else if (!idNode.canConvertToExactIntegral() || !idNode.canConvertToLong() || idNode.asLong() <= 0) {
            problems.add("field 'id': " + idNode + " is not a positive whole number");
        } else {
            id = idNode.asLong();
        }
        String headline = text(node, "headline", problems);
        if (headline != null && headline.isBlank()) problems.add("field 'headline': missing or blank");
        Instant createdAt = time(node, "created_at", problems);
        Instant updatedAt = time(node, "updated_at", problems);
        List<String> symbols = new ArrayList<>();
        JsonNode sym = node.get("symbols");
        if (sym != null && !sym.isNull()) {
            if (!sym.isArray()) {
                problems.add("field 'symbols': expected a list of tickers, got " + sym.getNodeType().name().toLowerCase());
            } else {
                for (JsonNode s : sym) {
                    if (!s.isTextual() || s.asText().isBlank()) problems.add("field 'symbols': " + s + " is not a ticker");
                    else symbols.add(s.asText().strip());
                }
            }
        }
        String summary = optionalText(node, "summary", problems);
        String author = optionalText(node, "author", problems);
        String url = optionalText(node, "url", problems);
        String content = optionalText(node, "content", problems);
        String source = optionalText(node, "source", problems);
        if (createdAt != null && updatedAt != null && updatedAt.isBefore(createdAt)) {
            problems.add("field 'updated_at': " + updatedAt + " is before created_at " + createdAt);
        }
        if (!problems.isEmpty()) {
            String prefix = id > 0 ? "article " + id + ": " : "";
            throw new InvalidArticle(prefix + String.join("; ", problems));
        }
        return new NewsArticle(id, headline.strip(), summary, author, createdAt, updatedAt, url, content, symbols, source);
    }

    private static String text(JsonNode node, String field, List<String> problems) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            problems.add("field '" + field + "': missing");
            return null;
        }
        if (!v.isTextual()) {
            problems.add("field '" + field + "': expected text, got " + v.getNodeType().name().toLowerCase());
            return null;
        }
        return v.asText();
    }

    private static String optionalText(JsonNode node, String field, List<String> problems) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) return "";
        if (!v.isTextual()) {
            problems.add("field '" + field + "': expected text, got " + v.getNodeType().name().toLowerCase());
            return "";
        }
        return v.asText();
    }

    private static Instant time(JsonNode node, String field, List<String> problems) {
        String s = text(node, field, problems);
        if (s == null) return null;
        try {
            return OffsetDateTime.parse(s.strip()).toInstant();
        } catch (DateTimeParseException e) {
            problems.add("field '" + field + "': '" + s + "' is not an RFC 3339 time such as 2024-01-03T14:30:00Z");
            return null;
        }
    }
}
