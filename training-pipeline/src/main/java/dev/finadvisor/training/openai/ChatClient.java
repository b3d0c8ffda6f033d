package dev.finadvisor.training.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * A client of any OpenAI-compatible chat completions endpoint ({@code POST BASE/chat/completions}: OpenAI, vLLM, Ollama,
 * finadvisor serve). A call parses the reply's message content with the caller's parser and retries what may go better
 * on another try: a malformed or refused reply (the parser throws {@link IllegalArgumentException}), a 429 (after its
 * {@code Retry-After} when it gives seconds), a 5xx, a timeout, a lost connection; the wait doubles from {@code backoff}.
 * Other 4xx replies (a wrong key, an unknown model) are not retried. The key is sent as a bearer token and never written
 * anywhere else.
 */
public final class ChatClient {
    /** Tokens the endpoint reported using, summed over attempts. */
    public record Usage(long promptTokens, long completionTokens) {
        public static final Usage NONE = new Usage(0, 0);

        public Usage plus(Usage o) {
            return new Usage(promptTokens + o.promptTokens, completionTokens + o.completionTokens);
        }
    }

    /** What a call gave: the parsed value, or null and why; the tokens its attempts used and how many there were. */
    public record Result<T>(T value, String failure, Usage usage, int attempts) {
        public boolean ok() {
            return failure == null;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(2);
    private final HttpClient http;
    private final URI endpoint;
    private final String apiKey;
    private final Duration timeout;
    private final int attempts;
    private final Duration backoff;

    /**
     * @param baseUrl  the API's base, e.g. {@code https://api.openai.com/v1} or {@code http://localhost:8000/v1}
     * @param apiKey   the bearer token, or null for none (a local server)
     * @param attempts tries per call (at least 1)
     */
    public ChatClient(String baseUrl, String apiKey, Duration timeout, int attempts, Duration backoff) {
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
        this.endpoint = URI.create(baseUrl.replaceAll("/+$", "") + "/chat/completions");
        this.apiKey = apiKey;
        this.timeout = timeout;
        this.attempts = Math.max(1, attempts);
        this.backoff = backoff;
    }

    public URI endpoint() {
        return endpoint;
    }

    /** Sends {@code request} (a chat completions body) until {@code parse} accepts a reply's content, or attempts run out. */
    public <T> Result<T> complete(ObjectNode request, Function<String, T> parse) {
        return complete(request, parse, () -> false);
    }

    /** The same; {@code cancelled} turning true stops before the next attempt or during a wait (failure "interrupted"). */
    public <T> Result<T> complete(ObjectNode request, Function<String, T> parse, BooleanSupplier cancelled) {
        String body = request.toString();
        String failure = "no attempt";
        Usage usage = Usage.NONE;
        Duration wait = backoff;
        for (int attempt = 1; attempt <= attempts; attempt++) {
            if (cancelled.getAsBoolean()) return new Result<>(null, "interrupted", usage, attempt - 1);
            Duration retryAfter = null;
            try {
                HttpRequest.Builder b = HttpRequest.newBuilder(endpoint).timeout(timeout).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body));
                if (apiKey != null) b.header("Authorization", "Bearer " + apiKey);
                HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    usage = usage.plus(usage(r.body()));
                    try {
                        return new Result<>(parse.apply(content(r.body())), null, usage, attempt);
                    } catch (IllegalArgumentException e) {
                        failure = "malformed reply: " + e.getMessage();
                    }
                } else {
                    failure = "HTTP " + r.statusCode() + ": " + abbreviate(r.body());
                    if (r.statusCode() == 429) retryAfter = r.headers().firstValue("Retry-After").map(ChatClient::seconds).orElse(null);
                    else if (r.statusCode() < 500) return new Result<>(null, failure, usage, attempt); // a wrong key stays wrong
                }
            } catch (HttpTimeoutException e) {
                failure = String.format(Locale.ROOT, "no reply within %.1f s", timeout.toMillis() / 1000.0);
            } catch (IOException e) {
                failure = "cannot reach " + endpoint + ": " + (e.getMessage() == null ? e.toString() : e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Result<>(null, "interrupted", usage, attempt);
            }
            if (attempt < attempts) {
                if (!sleep(retryAfter != null ? retryAfter : wait, cancelled)) return new Result<>(null, "interrupted", usage, attempt);
                wait = wait.multipliedBy(2);
            }
        }
        return new Result<>(null, failure + " (" + attempts + " attempts)", usage, attempts);
    }

    /** The message content of a chat completion body; IllegalArgumentException for a refusal, no content, or not JSON. */
    static String content(String body) {
        JsonNode message;
        try {
            message = JSON.readTree(body).path("choices").path(0).path("message");
        } catch (IOException e) {
            throw new IllegalArgumentException("the body is not JSON");
        }
        if (message.hasNonNull("refusal")) throw new IllegalArgumentException("refused: " + abbreviate(message.get("refusal").asText()));
        JsonNode content = message.get("content");
        if (content == null || !content.isTextual()) throw new IllegalArgumentException("no message content");
        return content.asText();
    }

    private static Usage usage(String body) {
        try {
            JsonNode u = JSON.readTree(body).path("usage");
            return new Usage(u.path("prompt_tokens").asLong(0), u.path("completion_tokens").asLong(0));
        } catch (IOException e) {
            return Usage.NONE;
        }
    }

    /** {@code content} as one JSON object (nothing around it); IllegalArgumentException otherwise. */
    public static JsonNode object(String content) {
        JsonNode o;
        try {
            o = JSON.readTree(content);
        } catch (IOException e) {
            o = null;
        }
        if (o == null || !o.isObject()) throw new IllegalArgumentException("the content is not one JSON object: " + abbreviate(content));
        return o;
    }

    /** A chat completions body: {@code model}, temperature, the JSON response format, a system and a user message. */
    public static ObjectNode request(String model, double temperature, String system, String user) {
        ObjectNode o = JSON.createObjectNode();
        o.put("model", model);
        o.put("temperature", temperature);
        o.putObject("response_format").put("type", "json_object");
        var messages = o.putArray("messages");
        messages.addObject().put("role", "system").put("content", system);
        messages.addObject().put("role", "user").put("content", user);
        return o;
    }

    private static Duration seconds(String retryAfter) {
        try {
            long s = Long.parseLong(retryAfter.strip());
            return s < 0 ? null : Duration.ofSeconds(Math.min(s, MAX_RETRY_AFTER.toSeconds()));
        } catch (NumberFormatException e) {
            return null; // an HTTP date: the doubling wait instead
        }
    }

    public static String abbreviate(String s) {
        String one = s.strip().replaceAll("\\s+", " ");
        return one.length() <= 160 ? one : one.substring(0, 157) + "...";
    }

    /** Waits {@code d}, a tenth of a second at a time; false when cancelled or interrupted meanwhile. */
    private static boolean sleep(Duration d, BooleanSupplier cancelled) {
        long until = System.nanoTime() + d.toNanos();
        try {
            for (long left; (left = until - System.nanoTime()) > 0; ) {
                if (cancelled.getAsBoolean()) return false;
                Thread.sleep(Math.max(1, Math.min(100, left / 1_000_000)));
            }
            return !cancelled.getAsBoolean();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
