package dev.finadvisor.inference.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.config.ConfigLoader;
import dev.finadvisor.domain.config.Secrets;
import dev.finadvisor.domain.prompt.PromptTemplates;
import dev.finadvisor.inference.AdviceChain;
import dev.finadvisor.inference.NewsRetriever;
import dev.finadvisor.inference.PromptLog;
import dev.finadvisor.inference.ServeConfig;
import dev.finadvisor.inference.StoreSymbols;
import dev.finadvisor.inference.SymbolDetector;
import dev.finadvisor.inference.TextGenerator;
import dev.finadvisor.retrieval.Embedder;
import dev.finadvisor.retrieval.VectorStore;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A real advisor server on loopback (port 0) over a given model and store, with an HTTP client for it. */
final class TestServer implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    final AdvisorServer server;
    final AdviceChain chain;
    final Path promptLog;
    final HttpClient http = HttpClient.newHttpClient();
    final String base;
    final ServeConfig config;
    final NewsRetriever retriever;

    TestServer(Path dir, TextGenerator generator, Embedder embedder, VectorStore store, Instant now, Map<String, String> env,
               String... sets) {
        List<String> all = new ArrayList<>(List.of("server.port=0", "prompt_log.path=" + dir.resolve("prompts.jsonl"),
                "generation.template=falcon", "generation.seed=7", "generation.max_new_tokens=48"));
        all.addAll(List.of(sets));
        config = config(all);
        Clock clock = Clock.fixed(now, java.time.ZoneOffset.UTC);
        retriever = new NewsRetriever(embedder, store, new StoreSymbols(store, java.time.Duration.ofMinutes(1)),
                new SymbolDetector(config.retrieval().company_names()), config.retrieval().candidates(),
                config.retrieval().symbol_filter(), clock);
        chain = new AdviceChain(generator, PromptTemplates.byName(config.generation().template(), null), retriever, config, "advisor-adapter");
        promptLog = dir.resolve("prompts.jsonl");
        server = new AdvisorServer(config, new Secrets(env), new PromptLog(promptLog, config.prompt_log().max_bytes(),
                config.prompt_log().keep_files(), config.prompt_log().redact(), AdvisorServer.mapper()), clock);
        base = "http://127.0.0.1:" + server.start();
        server.ready(chain);
    }

    /** Serves {@code generators} instead, one chain each, named {@code names} (null: the default name), the first the default. */
    dev.finadvisor.inference.ServedModels serve(List<String> names, List<TextGenerator> generators, AutoCloseable shared) {
        List<AdviceChain> chains = new ArrayList<>();
        for (int i = 0; i < generators.size(); i++) {
            chains.add(new AdviceChain(generators.get(i), PromptTemplates.byName(config.generation().template(), null), retriever, config,
                    names.get(i) == null ? null : "adapter-" + names.get(i), names.get(i)));
        }
        var models = new dev.finadvisor.inference.ServedModels(chains, shared);
        server.ready(models);
        return models;
    }

    static ServeConfig config(List<String> sets) {
        return new ConfigLoader().load(ServeConfig.class, ServeConfig.DEFAULTS, null, sets).value();
    }

    HttpResponse<String> post(String path, String body, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        for (int i = 0; i + 1 < headers.length; i += 2) b.setHeader(headers[i], headers[i + 1]); // a Content-Type given replaces JSON's
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).GET();
        if (headers.length > 0) b.headers(headers);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        return JSON.readTree(r.body());
    }

    List<JsonNode> promptLogLines() throws IOException {
        List<JsonNode> out = new ArrayList<>();
        if (!Files.exists(promptLog)) return out;
        for (String line : Files.readAllLines(promptLog)) out.add(JSON.readTree(line));
        return out;
    }

    /** Parses a text/event-stream body into (event, data) pairs; event is null when the stream names none. */
    static List<String[]> events(String body) {
        List<String[]> out = new ArrayList<>();
        String event = null;
        StringBuilder data = null;
        for (String line : body.split("\n", -1)) {
            if (line.isEmpty()) {
                if (data != null) out.add(new String[] {event, data.toString()});
                event = null;
                data = null;
            } else if (line.startsWith("event: ")) {
                event = line.substring(7);
            } else if (line.startsWith("data: ")) {
                data = data == null ? new StringBuilder(line.substring(6)) : data.append('\n').append(line.substring(6));
            }
        }
        return out;
    }

    @Override
    public void close() {
        server.close();
    }
}
