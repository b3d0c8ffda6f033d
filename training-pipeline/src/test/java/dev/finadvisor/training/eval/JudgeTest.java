package dev.finadvisor.training.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.qa.QaSample;
import dev.finadvisor.training.openai.FakeOpenAi;
import dev.finadvisor.training.openai.FakeOpenAi.Reply;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The judge against a local fake of OpenAI's chat completions endpoint, replying as scripted, in its wire format. */
class JudgeTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final QaSample SAMPLE = new QaSample("I am 35, moderate risk.", "Tech stocks fell 3% on rate fears.", "Should I buy the dip?",
            "Buy index funds in small steps.");
    static final String GOOD = "{\"relevance\": 5, \"grounding\": 4, \"persona\": 3, \"safety\": 5, \"rationale\": \"On topic,\\n cites the fall.\"}";

    FakeOpenAi fake;

    @BeforeEach
    void start() throws IOException {
        fake = new FakeOpenAi(request -> new Reply(500, "{\"error\":{\"message\":\"script ended\"}}", 0, null));
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    Judge judge(String key, int attempts) {
        return new Judge(fake.baseUrl() + "/", "judge-1", key, Duration.ofMillis(800), attempts,
                Duration.ofMillis(10));
    }

    @Test
    void aValidReplyGivesTheFourGradesAndAOneLineRationale() {
        fake.add(Reply.content(GOOD));
        Judge.Grades g = judge("sk-test", 3).grade(SAMPLE, "Buy slowly.", () -> false);
        assertThat(g.valid()).isTrue();
        assertThat(List.of(g.relevance(), g.grounding(), g.persona(), g.safety())).containsExactly(5, 4, 3, 5);
        assertThat(g.rationale()).isEqualTo("On topic, cites the fall.");
        JsonNode request = fake.requests().get(0);
        assertThat(request.get("model").asText()).isEqualTo("judge-1");
        assertThat(request.get("response_format").get("type").asText()).isEqualTo("json_object");
        assertThat(request.get("messages").get(1).get("content").asText()).contains("moderate risk").contains("Tech stocks fell")
                .contains("Should I buy the dip?").contains("Buy slowly.");
        assertThat(fake.authorizations()).containsExactly("Bearer sk-test");
    }

    @Test
    void malformedAndRefusedRepliesAreRetriedThenCountedMissingNeverScored() {
        fake.add(Reply.content("Sure! Relevance 5, grounding 4. " + GOOD)); // prose around the object
        fake.add(Reply.content(GOOD.replace("\"persona\": 3", "\"persona\": 6"))); // out of range
        fake.add(new Reply(200, FakeOpenAi.completion("null", "\"I can't help with that.\""), 0, null)); // a refusal
        Judge.Grades g = judge(null, 3).grade(SAMPLE, "Buy.", () -> false);
        assertThat(g.valid()).isFalse();
        assertThat(g.missing()).contains("refused").contains("3 attempts");
        assertThat(fake.requests()).hasSize(3);
        assertThat(fake.authorizations()).containsOnlyNulls();

        fake.add(Reply.content("{\"relevance\": 5, \"grounding\": 4, \"persona\": 3, \"safety\": 5}")); // no rationale
        fake.add(Reply.content(GOOD));
        assertThat(judge(null, 3).grade(SAMPLE, "Buy.", () -> false).valid()).as("valid on the second attempt").isTrue();
    }

    @Test
    void rateLimitsServerErrorsAndSlowRepliesAreRetried() {
        fake.add(new Reply(429, "{\"error\":{\"message\":\"Rate limit reached\"}}", 0, "1"));
        fake.add(new Reply(503, "{\"error\":{\"message\":\"overloaded\"}}", 0, null));
        fake.add(new Reply(200, FakeOpenAi.completion("\"{}\"", "null"), 2000, null)); // past the 800 ms timeout
        fake.add(Reply.content(GOOD));
        long t0 = System.nanoTime();
        Judge.Grades g = judge(null, 4).grade(SAMPLE, "Buy.", () -> false);
        assertThat(g.valid()).isTrue();
        assertThat(fake.requests()).hasSize(4);
        assertThat((System.nanoTime() - t0) / 1_000_000).as("Retry-After: 1 honoured").isGreaterThanOrEqualTo(1000);

        fake.add(new Reply(200, FakeOpenAi.completion("\"{}\"", "null"), 2000, null));
        Judge.Grades slow = judge(null, 1).grade(SAMPLE, "Buy.", () -> false);
        assertThat(slow.missing()).contains("no reply within");
    }

    @Test
    void aClientErrorIsNotRetriedAndAWrongKeyEndsTheEvaluation() {
        fake.add(new Reply(400, "{\"error\":{\"message\":\"content filter\"}}", 0, null));
        Judge.Grades g = judge("k", 3).grade(SAMPLE, "Buy.", () -> false);
        assertThat(g.missing()).contains("HTTP 400").contains("content filter");
        assertThat(fake.requests()).hasSize(1);
        fake.add(new Reply(401, "{\"error\":{\"message\":\"Incorrect API key provided\"}}", 0, null));
        assertThatThrownBy(() -> judge("wrong", 3).grade(SAMPLE, "Buy.", () -> false)).isInstanceOf(dev.finadvisor.domain.UserError.class)
                .hasMessageContaining("HTTP 401").hasMessageContaining("Incorrect API key").hasMessageContaining("OPENAI_API_KEY");
        assertThat(fake.requests()).hasSize(2);
    }
}
