package dev.finadvisor.domain.news;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.List;

/**
 * A news article as Alpaca's news API sends it (REST {@code /v1beta1/news} and the news WebSocket):
 * {@code content} is HTML and may be empty; {@code symbols} are tickers.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record NewsArticle(
        long id,
        String headline,
        String summary,
        String author,
        @JsonProperty("created_at") Instant createdAt,
        @JsonProperty("updated_at") Instant updatedAt,
        String url,
        String content,
        List<String> symbols,
        String source) {

    public NewsArticle {
        symbols = symbols == null ? List.of() : List.copyOf(symbols);
    }
}
