package dev.finadvisor.training.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.finadvisor.domain.qa.QaSample;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
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

    /** What the fake does for one request: status, body (a completion whose content is {@code content}), delay. */
    record Reply(int status, String body, long delayMs, String retryAfter) {
        static Reply content(String content) {
            return new Reply(200, completion(JSON.getNodeFactory().textNode(content).toString(), "null"), 0, null);
        }
    }

    static String completion(String contentJson, String refusalJson) {
        return "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"judge-1\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":" + contentJson + ",\"refusal\":" + refusalJson + "},\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":10,\"total_tokens\":20}}";
    }

    HttpServer server;
    final Deque<Reply> script = new ArrayDeque<>();
    final List<JsonNode> requests = new ArrayList<>();
    final List<String> authorizations = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/chat/completions", this::handle);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void handle(HttpExchange ex) throws IOException {
        synchronized (requests) {
            requests.add(JSON.readTree(ex.getRequestBody().readAllBytes()));
            authorizations.add(ex.getRequestHeaders().getFirst("Authorization"));
        }
        Reply r;
        synchronized (script) {
            r = script.isEmpty() ? new Reply(500, "{\"error\":{\"message\":\"script ended\"}}", 0, null) : script.poll();
        }
        try {
            Thread.sleep(r.delayMs());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        if (r.retryAfter() != null) ex.getResponseHeaders().add("Retry-After", r.retryAfter());
        try {
            ex.sendResponseHeaders(r.status(), body.length);
            ex.getResponseBody().write(body);
        } catch (IOException e) {
            // the client gave up (timeout)
        }
        ex.close();
    }

    Judge judge(String key, int attempts) {
        return new Judge("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/", "judge-1", key, Duration.ofMillis(800), attempts,
                Duration.ofMillis(10));
    }

    @Test
    void aValidReplyGivesTheFourGradesAndAOneLineRationale() {
        script.add(Reply.content(GOOD));
        Judge.Grades g = judge("sk-test", 3).grade(SAMPLE, "Buy slowly.", () -> false);
        assertThat(g.valid()).isTrue();
        assertThat(List.of(g.relevance(), g.grounding(), g.persona(), g.safety())).containsExactly(5, 4, 3, 5);
        assertThat(g.rationale()).isEqualTo("On topic, cites the fall.");
        JsonNode request = requests.get(0);
        assertThat(request.get("model").asText()).isEqualTo("judge-1");
        assertThat(request.get("response_format").get("type").asText()).isEqualTo("json_object");
        assertThat(request.get("messages").get(1).get("content").asText()).contains("moderate risk").contains("Tech stocks fell")
                .contains("Should I buy the dip?").contains("Buy slowly.");
        assertThat(authorizations).containsExactly("Bearer sk-test");
    }

    @Test
    void malformedAndRefusedRepliesAreRetriedThenCountedMissingNeverScored() {
        script.add(Reply.content("Sure! Relevance 5, grounding 4. " + GOOD)); // prose around the object
        script.add(Reply.content(GOOD.replace("\"persona\": 3", "\"persona\": 6"))); // out of range
        script.add(new Reply(200, completion("null", "\"I can't help with that.\""), 0, null)); // a refusal
        Judge.Grades g = judge(null, 3).grade(SAMPLE, "Buy.", () -> false);
        assertThat(g.valid()).isFalse();
        assertThat(g.missing()).contains("refused").contains("3 attempts");
        assertThat(requests).hasSize(3);
        assertThat(authorizations).containsOnlyNulls();

        script.add(Reply.content("{\"relevance\": 5, \"grounding\": 4, \"persona\": 3, \"safety\": 5}")); // no rationale
        script.add(Reply.content(GOOD));
        assertThat(judge(null, 3).grade(SAMPLE, "Buy.", () -> false).valid()).as("valid on the second attempt").isTrue();
    }

    @Test
    void rateLimitsServerErrorsAndSlowRepliesAreRetried() {
        script.add(new Reply(429, "{\"error\":{\"message\":\"Rate limit reached\"}}", 0, "1"));
        script.add(new Reply(503, "{\"error\":{\"message\":\"overloaded\"}}", 0, null));
        script.add(new Reply(200, completion("\"{}\"", "null"), 2000, null)); // past the 800 ms timeout
        script.add(Reply.content(GOOD));
        long t0 = System.nanoTime();
        Judge.Grades g = judge(null, 4).grade(SAMPLE, "Buy.", () -> false);
        assertThat(g.valid()).isTrue();
        assertThat(requests).hasSize(4);
        assertThat((System.nanoTime() - t0) / 1_000_000).as("Retry-After: 1 honoured").isGreaterThanOrEqualTo(1000);

        script.add(new Reply(200, completion("\"{}\"", "null"), 2000, null));
        Judge.Grades slow = judge(null, 1).grade(SAMPLE, "Buy.", () -> false);
        assertThat(slow.missing()).contains("no reply within");
    }

    @Test
    void aClientErrorIsNotRetriedAndAWrongKeyEndsTheEvaluation() {
        script.add(new Reply(400, "{\"error\":{\"message\":\"content filter\"}}", 0, null));
        Judge.Grades g = judge("k", 3).grade(SAMPLE, "Buy.", () -> false);
        assertThat(g.missing()).contains("HTTP 400").contains("content filter");
        assertThat(requests).hasSize(1);
        script.add(new Reply(401, "{\"error\":{\"message\":\"Incorrect API key provided\"}}", 0, null));
        assertThatThrownBy(() -> judge("wrong", 3).grade(SAMPLE, "Buy.", () -> false)).isInstanceOf(dev.finadvisor.domain.UserError.class)
                .hasMessageContaining("HTTP 401").hasMessageContaining("Incorrect API key").hasMessageContaining("OPENAI_API_KEY");
        assertThat(requests).hasSize(2);
    }
}
