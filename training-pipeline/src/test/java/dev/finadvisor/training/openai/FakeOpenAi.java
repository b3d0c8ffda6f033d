package dev.finadvisor.training.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Function;

/**
 * A local fake of OpenAI's chat completions endpoint ({@code POST /v1/chat/completions}), in its wire format: each
 * request gets the next scripted reply, or when the script is empty what {@code fallback} makes of the request.
 */
public final class FakeOpenAi implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the fake does for one request: status, body, a delay before answering, a Retry-After header (null: none). */
    public record Reply(int status, String body, long delayMs, String retryAfter) {
        /** A 200 chat completion whose message content is {@code content} (100 prompt and 40 completion tokens used). */
        public static Reply content(String content) {
            return new Reply(200, completion(JSON.getNodeFactory().textNode(content).toString(), "null"), 0, null);
        }

        /** An OpenAI-style error body with {@code status}. */
        public static Reply error(int status, String retryAfter) {
            return new Reply(status, "{\"error\":{\"message\":\"status " + status + "\",\"type\":\"server_error\"}}", 0, retryAfter);
        }

        public Reply delayed(long ms) {
            return new Reply(status, body, ms, retryAfter);
        }
    }

    /** A chat completion body with {@code contentJson} and {@code refusalJson} (JSON values) as the message's. */
    public static String completion(String contentJson, String refusalJson) {
        return "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"fake-1\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":" + contentJson + ",\"refusal\":" + refusalJson + "},\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":40,\"total_tokens\":140}}";
    }

    private final HttpServer server;
    private final Deque<Reply> script = new ArrayDeque<>();
    private final Function<JsonNode, Reply> fallback;
    private final List<JsonNode> requests = new ArrayList<>();
    private final List<String> authorizations = new ArrayList<>();

    public FakeOpenAi(Function<JsonNode, Reply> fallback) throws IOException {
        this.fallback = fallback;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/chat/completions", this::handle);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
    }

    /** The API's base URL, as a client takes it. */
    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    public void add(Reply reply) {
        synchronized (script) {
            script.add(reply);
        }
    }

    /** The request bodies received so far, in order. */
    public List<JsonNode> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    /** The Authorization header of each request (null where none was sent). */
    public List<String> authorizations() {
        synchronized (requests) {
            return new ArrayList<>(authorizations);
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        JsonNode request = JSON.readTree(ex.getRequestBody().readAllBytes());
        synchronized (requests) {
            requests.add(request);
            authorizations.add(ex.getRequestHeaders().getFirst("Authorization"));
        }
        Reply r;
        synchronized (script) {
            r = script.poll();
        }
        if (r == null) r = fallback.apply(request);
        if (r.delayMs() > 0) {
            try {
                Thread.sleep(r.delayMs());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        if (r.retryAfter() != null) ex.getResponseHeaders().add("Retry-After", r.retryAfter());
        try {
            ex.sendResponseHeaders(r.status(), body.length);
            ex.getResponseBody().write(body);
        } catch (IOException e) {
            // the client gave up waiting
        }
        ex.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
