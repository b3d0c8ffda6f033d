package dev.finadvisor.inference.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.config.Secrets;
import dev.finadvisor.inference.AdviceAnswer;
import dev.finadvisor.inference.AdviceChain;
import dev.finadvisor.inference.ServedModels;
import dev.finadvisor.inference.AdviceRequest;
import dev.finadvisor.inference.Generation;
import dev.finadvisor.inference.PreparedAdvice;
import dev.finadvisor.inference.PromptLog;
import dev.finadvisor.inference.ServeConfig;
import dev.finadvisor.inference.Timings;
import dev.finadvisor.inference.TokenSink;
import dev.finadvisor.inference.Usage;
import dev.finadvisor.retrieval.StoreUnavailable;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import io.javalin.util.JavalinBindException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The advisor's HTTP API on Javalin: {@code /v1/advice} (JSON and SSE), OpenAI-compatible
 * {@code /v1/chat/completions} and {@code /v1/models}, {@code /health}, {@code /ready}, {@code /metrics},
 * {@code /openapi.json} and the web page at {@code /}. Requests are authenticated (when keys are set),
 * rate-limited per key, admitted to the one-model generation queue, and logged to the prompt log.
 */
public final class AdvisorServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdvisorServer.class);
    private static final Set<String> ROUTES = Set.of("/health", "/ready", "/metrics", "/openapi.json", "/v1/advice",
            "/v1/advice/stream", "/v1/chat/completions", "/v1/models", "/v1/runs", "/v1/registry", "/v1/news", "/v1/news/search");
    /** nginx's code for "client closed the request": what a cancelled generation is counted as. */
    static final int CLIENT_CLOSED = 499;

    private final ServeConfig config;
    private final ApiKeys keys;
    private final PromptLog promptLog;
    private final Clock clock;
    private final ObjectMapper json;
    private final AdviceRequestParser adviceParser;
    private final ChatRequestParser chatParser;
    private final GenerationQueue queue;
    private final RateLimiter rateLimiter;
    private final Metrics metrics;
    private final RequestBodies bodies;
    private final ConnectionsPerClient connections;
    private final TrainingRecords training;
    private final NewsOverview news;
    private final Instant started;
    private volatile ServedModels models;
    private Javalin app;

    public AdvisorServer(ServeConfig config, Secrets secrets, PromptLog promptLog, Clock clock) {
        this.config = config;
        this.keys = ApiKeys.from(secrets);
        this.promptLog = promptLog;
        this.clock = clock;
        this.json = mapper();
        this.adviceParser = new AdviceRequestParser(json, config);
        this.chatParser = new ChatRequestParser(json, config, adviceParser);
        this.queue = new GenerationQueue(config.limits().queue_capacity());
        this.rateLimiter = new RateLimiter(config.limits().rate_limit_per_minute(), config.limits().rate_limit_burst(), System::nanoTime);
        this.connections = new ConnectionsPerClient(config.server().max_connections_per_client());
        this.metrics = new Metrics(queue::depth, connections::refused, () -> models == null ? null : models.byDefault().batching());
        this.bodies = new RequestBodies(config.server().max_body_bytes(), config.server().body_timeout_s() * 1_000_000_000L);
        this.training = new TrainingRecords(java.nio.file.Path.of(config.pages().runs_dir()), java.nio.file.Path.of(config.pages().registry()));
        this.news = new NewsOverview(config.ingestState(), clock);
        this.started = clock.instant();
    }

    /** The JSON mapper of the API: snake_case names, ISO-8601 times. */
    public static ObjectMapper mapper() {
        return new ObjectMapper() // one JSON object and nothing after it, each key once: anything else is ambiguous
                .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .registerModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    }

    /** Serves this chain from now on; {@code /ready} turns 200. */
    public void ready(AdviceChain chain) {
        ready(ServedModels.of(chain));
    }

    /** Serves these models (one generator, one chain each) from now on; {@code /ready} turns 200. */
    public void ready(ServedModels served) {
        queue.start(served.byDefault().maxBatch());
        this.models = served;
    }

    /** Starts listening; returns the bound port (useful with port 0). */
    public int start() {
        try {
            app = create().start();
        } catch (JavalinBindException e) {
            throw new UserError("cannot listen on " + config.server().host() + ":" + config.server().port()
                    + ": the port is in use; stop what holds it or choose another with --port (0 picks a free one)", e);
        }
        log.info("serving on http://{}:{} (API keys {}, CORS {})", config.server().host(), app.port(),
                keys.enabled() ? "required" : "off", config.cors().allowed_origins().isEmpty() ? "off" : config.cors().allowed_origins());
        return app.port();
    }

    /** The routes, wire formats and limits, not yet listening. */
    private Javalin create() {
        return Javalin.create(c -> {
            c.startup.showJavalinBanner = false;
            c.http.maxRequestSize = config.server().max_body_bytes();
            c.http.prefer405over404 = true;
            c.http.compressionStrategy = CompressionStrategy.NONE;
            c.http.asyncTimeout = 0;
            c.jetty.addConnector((server, http) -> {
                ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
                connector.setHost(config.server().host());
                connector.setPort(config.server().port());
                connector.addEventListener(connections);
                return connector;
            });
            c.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
            List<String> origins = config.cors().allowed_origins();
            if (!origins.isEmpty()) {
                c.bundledPlugins.enableCors(cors -> cors.addRule(rule -> {
                    if (origins.contains("*")) rule.anyHost();
                    else rule.allowHost(origins.get(0), origins.subList(1, origins.size()).toArray(String[]::new));
                    rule.exposeHeader("X-Request-Id");
                    rule.exposeHeader("Retry-After");
                }));
            }
            var r = c.routes;
            r.before(this::begin);
            r.before("/v1/*", this::guard);
            r.after(this::finish);
            r.get("/health", ctx -> respond(ctx, 200, Map.of("status", "ok")));
            r.get("/ready", this::readiness);
            r.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape()));
            r.get("/openapi.json", ctx -> ctx.contentType("application/json").result(resource("openapi.json")));
            if (config.server().web_ui()) new WebUi().register(r);
            r.post("/v1/advice", this::advice);
            r.post("/v1/advice/stream", this::adviceStream);
            r.post("/v1/chat/completions", this::chatCompletions);
            r.get("/v1/models", this::models);
            r.get("/v1/runs", ctx -> respond(ctx, 200, training.runs()));
            r.get("/v1/runs/{id}", ctx -> respond(ctx, 200, training.run(ctx.pathParam("id"))));
            r.get("/v1/registry", ctx -> respond(ctx, 200, training.registry(models)));
            r.get("/v1/news", ctx -> respond(ctx, 200, news.overview(requireModels().byDefault().retriever())));
            r.get("/v1/news/search", ctx -> respond(ctx, 200, news.search(requireModels().byDefault().retriever(), queryParams(ctx))));
            r.exception(ApiException.class, (e, ctx) -> error(ctx, e));
            r.exception(Exception.class, (e, ctx) -> {
                log.error("request {} {} failed ({})", ctx.method(), ctx.path(), ctx.attribute("request_id"), e);
                error(ctx, new ApiException(500, "server_error", null, "internal error; the server log has request id " + ctx.attribute("request_id")));
            });
            r.error(404, ctx -> {
                String type = ctx.res().getContentType();
                if (type == null || !type.startsWith("application/json")) { // Javalin's own text 404, not one of ours
                    error(ctx, new ApiException(404, "not_found", null, "no route " + ctx.method() + " " + ctx.path() + "; see /openapi.json"));
                }
            });
            r.error(405, ctx -> error(ctx, new ApiException(405, "method_not_allowed", null,
                    ctx.method() + " is not allowed on " + ctx.path() + "; see /openapi.json")));
        });
    }

    public int port() {
        return app.port();
    }

    public Metrics metrics() {
        return metrics;
    }

    ConnectionsPerClient connections() {
        return connections;
    }

    // ---- cross-cutting: request id, timing, auth, rate limit, metrics ----

    private void begin(Context ctx) {
        ctx.attribute("t0", System.nanoTime());
        String id = "req_" + HexFormat.of().formatHex(randomBytes());
        ctx.attribute("request_id", id);
        ctx.header("X-Request-Id", id);
    }

    private void guard(Context ctx) {
        if (ctx.method().name().equals("OPTIONS")) return; // CORS preflight carries no credentials
        if (ctx.method().name().equals("POST")) requireJson(ctx.header("Content-Type"));
        String client = keys.enabled() ? keys.authenticate(ctx.header("Authorization")) : "ip:" + ctx.ip();
        ctx.attribute("client", client);
        rateLimiter.acquire(client);
    }

    /**
     * POST bodies are JSON, said so: a web page can send text/plain or a form to another site without asking first (no
     * CORS preflight), so on a local server without keys any page could start generations if those were accepted.
     */
    static void requireJson(String contentType) {
        String type = contentType == null ? "" : contentType.split(";", 2)[0].strip().toLowerCase(java.util.Locale.ROOT);
        if (!type.equals("application/json")) {
            throw new ApiException(415, "unsupported_media_type", "Content-Type", "Content-Type is '" + (contentType == null ? "" : contentType)
                    + "'; send the body as JSON with Content-Type: application/json");
        }
    }

    private void finish(Context ctx) {
        Long t0 = ctx.attribute("t0");
        if (t0 == null) return;
        int status = ctx.attribute("final_status") instanceof Integer s ? s : ctx.statusCode();
        String route = ROUTES.contains(ctx.path()) || WebUi.PAGES.containsKey(ctx.path()) ? ctx.path()
                : ctx.path().startsWith("/web/") ? "/web/*" : ctx.path().startsWith("/v1/runs/") ? "/v1/runs/{id}" : "other";
        metrics.request(route, ctx.method().name(), status, (System.nanoTime() - t0) / 1e9);
    }

    private void readiness(Context ctx) {
        ServedModels m = models;
        if (m == null) {
            respond(ctx, 503, Map.of("status", "loading", "message", "the model and the news store are still loading"));
        } else {
            AdviceChain c = m.byDefault();
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("status", "ready");
            body.put("model", c.modelId());
            body.put("adapter", c.adapterId());
            body.put("template", c.templateName());
            body.put("models", m.names());
            respond(ctx, 200, body);
        }
    }

    // ---- the advice endpoints ----

    private void advice(Context ctx) {
        AdviceRequest request = adviceParser.parse(bodies.read(ctx));
        Completed done = run(ctx, "/v1/advice", requireChain(request.adapter(), "adapter"), request, TokenSink.NONE, () -> false);
        if (done == null) return;
        respond(ctx, 200, done.answer());
    }

    private void adviceStream(Context ctx) {
        AdviceRequest request = adviceParser.parse(bodies.read(ctx));
        SseStream[] sse = new SseStream[1];
        TokenSink sink = delta -> stream(ctx, sse).send("token", write(Map.of("delta", delta)));
        Completed done;
        try {
            done = run(ctx, "/v1/advice/stream", requireChain(request.adapter(), "adapter"), request, sink, () -> sse[0] != null && sse[0].gone());
        } catch (ApiException e) {
            if (sse[0] == null) throw e; // nothing sent yet: a plain JSON error with its status
            sse[0].send("error", write(errorBody(e)));
            return;
        }
        if (done == null) return;
        Map<String, Object> last = new LinkedHashMap<>(json.convertValue(done.answer(), LinkedHashMap.class));
        last.put("finish_reason", done.generation().finishReason());
        stream(ctx, sse).send("done", write(last));
    }

    private void chatCompletions(Context ctx) {
        ChatRequest request = chatParser.parse(bodies.read(ctx));
        AdviceChain c = requireChain(request.model(), "model");
        String id = "chatcmpl-" + ((String) ctx.attribute("request_id")).substring(4);
        long created = clock.instant().getEpochSecond();
        String model = c.servedModelName();
        if (!request.stream()) {
            Completed done = run(ctx, "/v1/chat/completions", c, request.advice(), TokenSink.NONE, () -> false);
            if (done == null) return;
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("id", id);
            body.put("object", "chat.completion");
            body.put("created", created);
            body.put("model", model);
            body.put("choices", List.of(Map.of("index", 0,
                    "message", Map.of("role", "assistant", "content", done.answer().answer()),
                    "finish_reason", openAiFinish(done.generation().finishReason()))));
            body.put("usage", openAiUsage(done.answer().usage()));
            body.put("sources", done.answer().sources());
            body.put("retrieval", done.answer().retrieval());
            respond(ctx, 200, body);
            return;
        }
        SseStream[] sse = new SseStream[1];
        boolean[] first = {true};
        TokenSink sink = delta -> {
            Map<String, Object> d = first[0] ? Map.of("role", "assistant", "content", delta) : Map.of("content", delta);
            first[0] = false;
            stream(ctx, sse).send(null, write(chunk(id, created, model, d, null)));
        };
        Completed done;
        try {
            done = run(ctx, "/v1/chat/completions", c, request.advice(), sink, () -> sse[0] != null && sse[0].gone());
        } catch (ApiException e) {
            if (sse[0] == null) throw e;
            sse[0].send(null, write(errorBody(e)));
            return;
        }
        if (done == null) return;
        Map<String, Object> last = chunk(id, created, model, Map.of(), openAiFinish(done.generation().finishReason()));
        last.put("sources", done.answer().sources());
        last.put("retrieval", done.answer().retrieval());
        stream(ctx, sse).send(null, write(last));
        if (request.includeUsage()) {
            Map<String, Object> usage = chunk(id, created, model, null, null);
            usage.put("choices", List.of());
            usage.put("usage", openAiUsage(done.answer().usage()));
            stream(ctx, sse).send(null, write(usage));
        }
        stream(ctx, sse).send(null, "[DONE]");
    }

    private void models(Context ctx) {
        List<Map<String, Object>> data = new ArrayList<>();
        for (AdviceChain c : requireModels().all()) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("id", c.servedModelName());
            entry.put("object", "model");
            entry.put("created", started.getEpochSecond());
            entry.put("owned_by", "finadvisor");
            entry.put("base_model", c.modelId());
            entry.put("adapter", c.adapterId());
            entry.put("template", c.templateName());
            data.add(entry);
        }
        respond(ctx, 200, Map.of("object", "list", "data", data));
    }

    private static Map<String, Object> chunk(String id, long created, String model, Map<String, Object> delta, String finish) {
        Map<String, Object> choice = new LinkedHashMap<>();
        choice.put("index", 0);
        choice.put("delta", delta);
        choice.put("finish_reason", finish);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", id);
        body.put("object", "chat.completion.chunk");
        body.put("created", created);
        body.put("model", model);
        body.put("choices", List.of(choice));
        return body;
    }

    private static String openAiFinish(String finish) {
        return finish.equals("length") ? "length" : "stop";
    }

    private static Map<String, Object> openAiUsage(Usage u) {
        return Map.of("prompt_tokens", u.promptTokens(), "completion_tokens", u.completionTokens(),
                "total_tokens", u.promptTokens() + u.completionTokens());
    }

    // ---- one advice request from admission to prompt log ----

    /** A finished generation and the answer made of it. */
    record Completed(AdviceAnswer answer, Generation generation) {}

    /**
     * Admits, retrieves, generates (streaming deltas to {@code sink}) and logs one request. Returns null
     * when the client disconnected (nothing more to send).
     */
    private Completed run(Context ctx, String route, AdviceChain c, AdviceRequest request, TokenSink sink, BooleanSupplier streamGone) {
        String requestId = ctx.attribute("request_id");
        long t0 = ctx.attribute("t0");
        try (GenerationQueue.Ticket ticket = admit()) {
            PreparedAdvice prepared;
            try {
                prepared = c.prepare(request);
            } catch (AdviceChain.PromptTooLong e) {
                throw new ApiException(400, "invalid_request_error", "question", e.getMessage());
            } catch (StoreUnavailable e) {
                // the detail (the store's address) stays in the server log
                log.warn("request {}: the news store is unavailable: {}", requestId, e.getMessage());
                throw new ApiException(503, "store_unavailable", null, "the news store cannot be reached right now; retry later",
                        Map.of("Retry-After", "5"));
            }
            long retrievalMs = prepared.retrieval().millis();
            metrics.retrieval(retrievalMs / 1000.0, prepared.retrieval().articles().size());
            AtomicLong firstToken = new AtomicLong(-1);
            TokenSink timed = delta -> {
                firstToken.compareAndSet(-1, System.nanoTime());
                sink.onDelta(delta);
            };
            long deadline = t0 + config.server().request_timeout_s() * 1_000_000_000L;
            ClientConnection connection = ClientConnection.of(ctx);
            BooleanSupplier clientGone = () -> streamGone.getAsBoolean() || connection.closed();
            BooleanSupplier cancelled = () -> clientGone.getAsBoolean() || System.nanoTime() > deadline;
            long g0 = System.nanoTime();
            Generation g;
            try {
                g = ticket.run(() -> c.generate(prepared, timed, cancelled), clientGone, config.server().request_timeout_s() * 1000L);
            } catch (CancellationException e) {
                g = new Generation("", prepared.promptTokens(), 0, "cancelled", 0, 0, -1);
            } catch (TimeoutException e) {
                throw new ApiException(504, "timeout", null, "the generation did not finish within server.request_timeout_s");
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            long generationMs = (System.nanoTime() - g0) / 1_000_000;
            double ttft = firstToken.get() < 0 ? -1 : (firstToken.get() - t0) / 1e9;
            metrics.generation(c.servedModelName(), g.promptTokens(), g.completionTokens(), g.prefillMs() / 1000.0, g.decodeMs() / 1000.0, ttft, g.finishReason());
            boolean gone = clientGone.getAsBoolean() || g.finishReason().equals("cancelled") && System.nanoTime() <= deadline;
            AdviceAnswer answer = new AdviceAnswer(g.text(), prepared.sources(),
                    AdviceAnswer.RetrievalSummary.of(prepared.retrieval(), prepared.sources().size()), new Usage(g.promptTokens(), g.completionTokens()),
                    new Timings(retrievalMs, generationMs), requestId);
            logPrompt(ctx, route, prepared, g, answer, ttft, gone ? "cancelled" : g.finishReason().equals("cancelled") ? "timeout" : "ok", c);
            if (gone) {
                ctx.attribute("final_status", CLIENT_CLOSED);
                return null;
            }
            if (g.finishReason().equals("cancelled")) {
                throw new ApiException(504, "timeout", null, "the generation did not finish within server.request_timeout_s");
            }
            return new Completed(answer, g);
        }
    }

    private GenerationQueue.Ticket admit() {
        try {
            return queue.admit();
        } catch (ApiException e) {
            metrics.queueRejected();
            throw e;
        }
    }

    /** What is served, or 503 while the model is still loading. */
    private ServedModels requireModels() {
        ServedModels m = models;
        if (m == null) {
            throw new ApiException(503, "server_loading", null, "the model is still loading; see GET /ready", Map.of("Retry-After", "5"));
        }
        return m;
    }

    /** The chain serving {@code name} (null: the default), or 404 naming {@code param} when no served model has that name. */
    private AdviceChain requireChain(String name, String param) {
        ServedModels m = requireModels();
        if (name == null) return m.byDefault();
        AdviceChain c = m.find(name);
        if (c == null) {
            throw new ApiException(404, "invalid_request_error", param, param + " '" + name + "' is not served here; GET /v1/models lists "
                    + String.join(", ", m.names().stream().map(n -> "'" + n + "'").toList()));
        }
        return c;
    }

    private void logPrompt(Context ctx, String route, PreparedAdvice p, Generation g, AdviceAnswer answer, double ttft,
                           String status, AdviceChain c) {
        if (promptLog == null) return;
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("request_id", answer.requestId());
        rec.put("time", clock.instant().toString());
        rec.put("route", route);
        rec.put("client", ctx.attribute("client"));
        rec.put("status", status);
        rec.put("model", c.modelId());
        rec.put("adapter", c.adapterId());
        rec.put("template", c.templateName());
        rec.put("template_variables", p.templateVariables());
        rec.put("prompt", p.prompt());
        rec.put("answer", g.text());
        rec.put("finish_reason", g.finishReason());
        rec.put("usage", Map.of("prompt_tokens", g.promptTokens(), "completion_tokens", g.completionTokens()));
        rec.put("sampling", p.sampling());
        Map<String, Object> retrieval = new LinkedHashMap<>();
        retrieval.put("since", p.retrieval().since().toString());
        retrieval.put("symbols", p.retrieval().symbols());
        retrieval.put("chunk_hits", p.retrieval().chunkHits());
        retrieval.put("hits", p.retrieval().articles().stream().map(h -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", h.id());
            m.put("score", h.score());
            m.put("headline", h.payload().headline());
            m.put("url", h.payload().url());
            m.put("created_at", String.valueOf(h.payload().createdAt()));
            m.put("cited", p.cited().contains(h));
            return m;
        }).toList());
        rec.put("retrieval", retrieval);
        Map<String, Object> lat = new LinkedHashMap<>();
        lat.put("embed_ms", p.retrieval().embedMs());
        lat.put("search_ms", p.retrieval().searchMs());
        lat.put("retrieval_ms", answer.timings().retrievalMs());
        lat.put("prefill_ms", g.prefillMs());
        lat.put("decode_ms", g.decodeMs());
        lat.put("generation_ms", answer.timings().generationMs());
        lat.put("time_to_first_token_ms", ttft < 0 ? null : Math.round(ttft * 1000));
        lat.put("total_ms", ((System.nanoTime() - (long) ctx.attribute("t0")) / 1_000_000));
        rec.put("latency", lat);
        try {
            promptLog.append(rec);
        } catch (RuntimeException e) {
            // The answer must still reach the user; the operator sees the log failure here.
            log.error("prompt log write failed for {}: {}", answer.requestId(), e.getMessage());
        }
    }

    // ---- plumbing ----

    private SseStream stream(Context ctx, SseStream[] holder) {
        synchronized (holder) {
            if (holder[0] == null) {
                ctx.status(200);
                ctx.res().setContentType("text/event-stream; charset=utf-8");
                ctx.res().setHeader("Cache-Control", "no-cache");
                ctx.res().setHeader("X-Accel-Buffering", "no"); // proxies must not buffer the stream
                try {
                    holder[0] = new SseStream(ctx.res().getOutputStream());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return holder[0];
        }
    }

    /** The first value of each query parameter. */
    private static Map<String, String> queryParams(Context ctx) {
        Map<String, String> out = new LinkedHashMap<>();
        ctx.queryParamMap().forEach((k, v) -> out.put(k, v.isEmpty() ? "" : v.get(0)));
        return out;
    }

    private void respond(Context ctx, int status, Object body) {
        ctx.status(status).contentType("application/json").result(write(body));
    }

    private void error(Context ctx, ApiException e) {
        e.headers().forEach(ctx::header);
        respond(ctx, e.status(), errorBody(e));
    }

    static Map<String, Object> errorBody(ApiException e) {
        Map<String, Object> err = new LinkedHashMap<>();
        err.put("message", e.getMessage());
        err.put("type", e.type());
        err.put("param", e.param());
        err.put("code", e.status());
        return Map.of("error", err);
    }

    private String write(Object body) {
        try {
            return json.writeValueAsString(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] resource(String name) {
        try (InputStream in = AdvisorServer.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("missing resource " + name);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[8];
        ThreadLocalRandom.current().nextBytes(b);
        return b;
    }

    @Override
    public void close() {
        if (app != null) app.stop();
        if (promptLog != null) promptLog.close();
    }
}
