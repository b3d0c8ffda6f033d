package dev.finadvisor.feature.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finadvisor.domain.news.NewsArticle;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class NewsParserTest {
    // Shaped like a real /v1beta1/news item (fields Alpaca documents, plus the stream's "T").
    private static final String ALPACA = """
            {"T":"n","id":24803233,"headline":"Benzinga Pro's Top 5 Stocks To Watch","summary":"Tesla, Apple and more",
             "author":"Benzinga Newsdesk","created_at":"2022-01-05T22:00:37Z","updated_at":"2022-01-05T22:00:38Z",
             "url":"https://www.benzinga.com/x","content":"<p>Hello</p>","symbols":["AAPL","TSLA"],"source":"benzinga"}""";

    @Test
    void parsesAnAlpacaNewsObjectIgnoringUnknownFields() throws InvalidArticle {
        NewsArticle a = NewsParser.parse(ALPACA);
        assertThat(a.id()).isEqualTo(24803233L);
        assertThat(a.headline()).isEqualTo("Benzinga Pro's Top 5 Stocks To Watch");
        assertThat(a.createdAt()).isEqualTo(Instant.parse("2022-01-05T22:00:37Z"));
        assertThat(a.updatedAt()).isEqualTo(Instant.parse("2022-01-05T22:00:38Z"));
        assertThat(a.symbols()).containsExactly("AAPL", "TSLA");
        assertThat(a.content()).isEqualTo("<p>Hello</p>");
    }

    @Test
    void acceptsOffsetTimesAndMissingOptionalFields() throws InvalidArticle {
        NewsArticle a = NewsParser.parse("{\"id\":7,\"headline\":\"H\",\"created_at\":\"2024-03-01T09:30:00-05:00\",\"updated_at\":\"2024-03-01T09:30:00-05:00\"}");
        assertThat(a.createdAt()).isEqualTo(Instant.parse("2024-03-01T14:30:00Z"));
        assertThat(a.summary()).isEmpty();
        assertThat(a.symbols()).isEmpty();
    }

    @Test
    void namesEveryBadFieldAndTheArticle() {
        assertThatThrownBy(() -> NewsParser.parse("{\"id\":9,\"headline\":\"  \",\"created_at\":\"yesterday\",\"symbols\":\"AAPL\"}"))
                .isInstanceOf(InvalidArticle.class)
                .hasMessageStartingWith("article 9: ")
                .hasMessageContaining("field 'headline': missing or blank")
                .hasMessageContaining("field 'created_at': 'yesterday' is not an RFC 3339 time")
                .hasMessageContaining("field 'updated_at': missing")
                .hasMessageContaining("field 'symbols': expected a list of tickers");
    }

    @Test
    void refusesNonObjectsBadIdsAndBrokenJson() {
        assertThatThrownBy(() -> NewsParser.parse("{\"id\":")).hasMessageStartingWith("not valid JSON");
        assertThatThrownBy(() -> NewsParser.parse("[1,2]")).hasMessageContaining("expected a JSON object");
        assertThatThrownBy(() -> NewsParser.parse("{\"id\":-3,\"headline\":\"h\",\"created_at\":\"2024-01-01T00:00:00Z\",\"updated_at\":\"2024-01-01T00:00:00Z\"}"))
                .hasMessageContaining("field 'id': -3 is not a positive whole number");
        assertThatThrownBy(() -> NewsParser.parse("{\"id\":3,\"headline\":\"h\",\"created_at\":\"2024-01-02T00:00:00Z\",\"updated_at\":\"2024-01-01T00:00:00Z\"}"))
                .hasMessageContaining("is before created_at");
        assertThatThrownBy(() -> NewsParser.parse(" ")).hasMessage("empty message");
    }
}
