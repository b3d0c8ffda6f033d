package dev.finadvisor.inference.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LangChain4j's OpenAI client, pointed at our server, talks to the fine-tuned advisor through the same chain. */
class OpenAiClientTest {
    static final Instant NOW = Instant.parse("2026-11-20T12:00:00Z");
    static final String KEY = "sk-local-test";
    static final String ABOUT_ME = "I am 30 and I earn 60k a year";
    static final String QUESTION = "Should I buy Apple shares after the iPhone results?";
    static ServerParts parts;

    @TempDir static Path shared;
    @TempDir Path dir;

    @BeforeAll
    static void load() throws Exception {
        parts = new ServerParts(shared, NOW);
    }

    @AfterAll
    static void close() {
        parts.close();
    }

    private TestServer server() {
        return new TestServer(dir, parts.tiny, parts.embedder, parts.store, NOW, Map.of("FINADVISOR_API_KEYS", KEY));
    }

    private String adviceAnswer(TestServer s) throws Exception {
        var r = s.post("/v1/advice", "{\"about_me\": \"" + ABOUT_ME + "\", \"question\": \"" + QUESTION + "\"}", "Authorization", "Bearer " + KEY);
        assertThat(r.statusCode()).isEqualTo(200);
        return TestServer.json(r).get("answer").asText();
    }

    private static ChatRequest request() {
        return ChatRequest.builder().messages(List.of(SystemMessage.from(ABOUT_ME), UserMessage.from(QUESTION))).build();
    }

    @Test
    void chatModelGetsTheSameAnswerAsTheAdviceEndpoint() throws Exception {
        try (TestServer s = server()) {
            String expected = adviceAnswer(s);
            OpenAiChatModel chat = OpenAiChatModel.builder().baseUrl(s.base + "/v1").apiKey(KEY)
                    .modelName("tiny-llama+advisor-adapter").timeout(Duration.ofSeconds(60)).build();
            ChatResponse response = chat.chat(request());
            assertThat(response.aiMessage().text()).isEqualTo(expected);
            assertThat(response.tokenUsage().outputTokenCount()).isPositive();
            assertThat(response.tokenUsage().inputTokenCount()).isPositive();
            // The request went through retrieval: the logged record cites Apple's news.
            JsonNode rec = s.promptLogLines().get(1);
            assertThat(rec.get("route").asText()).isEqualTo("/v1/chat/completions");
            assertThat(rec.get("template_variables").get("about_me").asText()).isEqualTo(ABOUT_ME);
            assertThat(rec.get("retrieval").get("hits").get(0).get("headline").asText()).isEqualTo("Apple reports record iPhone revenue");
        }
    }

    @Test
    void streamingChatModelReceivesDeltasThatAddUpToTheAnswer() throws Exception {
        try (TestServer s = server()) {
            String expected = adviceAnswer(s);
            OpenAiStreamingChatModel chat = OpenAiStreamingChatModel.builder().baseUrl(s.base + "/v1").apiKey(KEY)
                    .modelName("tiny-llama+advisor-adapter").timeout(Duration.ofSeconds(60)).build();
            StringBuilder partial = new StringBuilder();
            CompletableFuture<ChatResponse> done = new CompletableFuture<>();
            chat.chat(request(), new StreamingChatResponseHandler() {
                @Override
                public void onPartialResponse(String text) {
                    partial.append(text);
                }

                @Override
                public void onCompleteResponse(ChatResponse response) {
                    done.complete(response);
                }

                @Override
                public void onError(Throwable error) {
                    done.completeExceptionally(error);
                }
            });
            ChatResponse response = done.get(60, TimeUnit.SECONDS);
            assertThat(partial.toString()).isEqualTo(expected);
            assertThat(response.aiMessage().text()).isEqualTo(expected);
            assertThat(response.finishReason()).isNotNull();
        }
    }

    @Test
    void wrongKeyAndUnknownModelAreClientErrors() throws Exception {
        try (TestServer s = server()) {
            OpenAiChatModel wrongKey = OpenAiChatModel.builder().baseUrl(s.base + "/v1").apiKey("nope")
                    .modelName("tiny-llama+advisor-adapter").maxRetries(0).build();
            assertThatThrownBy(() -> wrongKey.chat(request())).hasMessageContaining("API key is not valid");
            OpenAiChatModel wrongModel = OpenAiChatModel.builder().baseUrl(s.base + "/v1").apiKey(KEY)
                    .modelName("gpt-4o").maxRetries(0).build();
            assertThatThrownBy(() -> wrongModel.chat(request())).hasMessageContaining("gpt-4o").hasMessageContaining("/v1/models");
            // a last user message made only of characters the cleaner removes is no question: 400 naming it
            var invisible = s.post("/v1/chat/completions", "{\"model\": \"tiny-llama+advisor-adapter\", \"messages\": "
                    + "[{\"role\": \"user\", \"content\": \"\\u200B\\u0000\\uFEFF\"}]}", "Authorization", "Bearer " + KEY);
            assertThat(invisible.statusCode()).isEqualTo(400);
            assertThat(TestServer.json(invisible).get("error").get("param").asText()).isEqualTo("messages[0].content");
        }
    }
}
