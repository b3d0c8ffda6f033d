package dev.finadvisor.inference.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.config.ConfigLoader;
import dev.finadvisor.domain.config.Secrets;
import dev.finadvisor.domain.prompt.PromptTemplates;
import dev.finadvisor.inference.AdviceChain;
import dev.finadvisor.inference.LanguageModelGenerator;
import dev.finadvisor.inference.NewsRetriever;
import dev.finadvisor.inference.PromptLog;
import dev.finadvisor.inference.ServeConfig;
import dev.finadvisor.inference.StoreSymbols;
import dev.finadvisor.inference.SymbolDetector;
import dev.finadvisor.inference.TextGenerator;
import dev.finadvisor.inference.server.AdvisorServer;
import dev.finadvisor.llm.EngineCheck;
import dev.finadvisor.llm.LanguageModel;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.retrieval.ChunkPayload;
import dev.finadvisor.retrieval.LuceneVectorStore;
import dev.finadvisor.retrieval.MiniLmEmbedder;
import dev.finadvisor.retrieval.Point;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Serving benchmark: a random checkpoint (a {@link RandomCheckpoint} preset: the 110M bench Llama by default, or the
 * 1.1B one) behind the real server, a Lucene store of synthetic news, streaming requests from 1, 4, 16 and 64
 * concurrent clients, with continuous batching on ({@code server.max_batch} 16) and, as the reference in the same run,
 * off ({@code server.max_batch} 1). Prints requests/s, output tokens/s, latency and time-to-first-token p50/p99, the
 * mean decode batch, where the time goes (retrieval, waiting, prefill, decode), and the ratios the batching is judged by.
 *
 * <p>Run: {@code bench/serve/run.sh [preset (bench100m)] [requests-per-client (2)] [max-new-tokens (128)] [clients (1,4,16,64)]}.
 */
public final class ServeBenchmark {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String[] TOPICS = {"Apple iPhone sales", "Tesla deliveries", "Federal Reserve rates", "Microsoft cloud revenue",
            "Nvidia chips demand", "oil prices and Exxon", "bank earnings at JPMorgan", "Amazon retail margins"};
    static final String[] SYMBOLS = {"AAPL", "TSLA", "", "MSFT", "NVDA", "XOM", "JPM", "AMZN"};

    public static void main(String[] args) throws Exception {
        String preset = args.length > 0 ? args[0] : "bench100m";
        int perClient = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int maxNew = args.length > 2 ? Integer.parseInt(args[2]) : 128;
        int[] levels = java.util.Arrays.stream((args.length > 3 ? args[3] : "1,4,16,64").split(",")).mapToInt(Integer::parseInt).toArray();
        Path dir = Files.createTempDirectory("serve-bench");
        System.out.printf(Locale.ROOT, "machine: %d cores; load average %s (other processes share the CPU)%n",
                Runtime.getRuntime().availableProcessors(), Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        EngineCheck engine = EngineCheck.run(1024);
        System.out.printf(Locale.ROOT, "ceiling: fp32 matmul 1024^3 %.1f GFLOP/s (%s %s, %d threads)%n",
                engine.matmulGflops(), engine.engine(), engine.version(), engine.threads());

        Path checkpoint = Path.of(System.getProperty("user.home"), ".cache", "finadvisor-bench", preset);
        if (!Files.exists(checkpoint.resolve("config.json"))) RandomCheckpoint.preset(preset).write(checkpoint);
        long weightBytes;
        try (var files = Files.list(checkpoint)) {
            weightBytes = files.filter(f -> f.toString().endsWith(".safetensors")).mapToLong(f -> f.toFile().length()).sum();
        }
        System.out.printf(Locale.ROOT, "model: %s (%s), %.0f MB of weights as stored; served in the checkpoint's precision%n",
                preset, checkpoint, weightBytes / 1e6);

        Instant now = Instant.now();
        try (MiniLmEmbedder embedder = MiniLmEmbedder.load(MiniLmEmbedder.Variant.QUANTIZED, MiniLmEmbedder.OverLength.TRUNCATE);
             LuceneVectorStore store = LuceneVectorStore.open(dir.resolve("store"), MiniLmEmbedder.DIMENSION)) {
            fillStore(store, embedder, now, 240);
            Bench bench = new Bench(embedder, store, dir, perClient, maxNew);
            Map<Integer, Map<Integer, Row>> rows = new java.util.TreeMap<>();
            List<dev.finadvisor.llm.lora.PeftAdapter> adapters;
            try (LanguageModel model = LanguageModel.load(checkpoint, dev.finadvisor.llm.lowbit.WeightFormat.AUTO)) {
                for (int maxBatch : new int[] {16, 1}) {
                    LanguageModelGenerator generator = new LanguageModelGenerator(model, preset, bench.config(maxBatch).server().batching());
                    try {
                        System.out.printf(Locale.ROOT, "%nserver.max_batch %d:%n", maxBatch);
                        rows.put(maxBatch, bench.measure(maxBatch, List.of(generator), List.of(), levels));
                    } finally {
                        generator.batching().close(); // the model stays open for the next configuration
                    }
                }
                adapters = new ArrayList<>();
                for (int i = 0; i < 4; i++) adapters.add(dev.finadvisor.inference.TinyModel.randomAdapter(model, i + 1, 16));
            }
            System.out.println();
            Map<Integer, Row> on = rows.get(16);
            Map<Integer, Row> off = rows.get(1);
            for (int clients : levels) {
                if (clients == 1) continue;
                System.out.printf(Locale.ROOT, "%d clients: output tokens/s with batching %.2fx of batching off (target at 16: >= 6x); "
                                + "first-token p99 %.2fx of 1 client's (target at 16: <= 3x; batching off: %.2fx)%n",
                        clients, on.get(clients).tokensPerSecond / off.get(clients).tokensPerSecond,
                        on.get(clients).firstTokenP99 / on.get(1).firstTokenP99, off.get(clients).firstTokenP99 / off.get(1).firstTokenP99);
            }
            // Four adapters (rank 16 on q_proj and v_proj), unmerged on the one base, the clients spread over them.
            int clients = java.util.Arrays.stream(levels).filter(c -> c == 16).findFirst().orElse(levels[levels.length - 1]);
            try (LanguageModelGenerator many = LanguageModelGenerator.load(checkpoint, adapters, dev.finadvisor.llm.lowbit.WeightFormat.AUTO,
                    bench.config(16).server().batching())) {
                List<TextGenerator> views = List.of(many.forAdapter(1), many.forAdapter(2), many.forAdapter(3), many.forAdapter(4));
                System.out.printf(Locale.ROOT, "%nserver.max_batch 16, four adapters (a1..a4, rank 16, unmerged), client c asks a(c %% 4 + 1):%n");
                Row four = bench.measure(16, views, List.of("a1", "a2", "a3", "a4"), new int[] {clients}).get(clients);
                System.out.printf(Locale.ROOT, "%n%d clients over four adapters: output tokens/s %.2fx of one model's (target: within 15%%)%n",
                        clients, four.tokensPerSecond / on.get(clients).tokensPerSecond);
            }
        }
    }

    /** The store and settings every configuration is served with. */
    record Bench(MiniLmEmbedder embedder, LuceneVectorStore store, Path dir, int perClient, int maxNew) {
        ServeConfig config(int maxBatch) {
            return new ConfigLoader().load(ServeConfig.class, ServeConfig.DEFAULTS, null, List.of("server.port=0",
                    "server.max_batch=" + maxBatch, "server.max_connections_per_client=1000", "server.request_timeout_s=3600", "limits.queue_capacity=64",
                    "limits.rate_limit_per_minute=0", "limits.max_new_tokens_cap=" + Math.max(512, maxNew), "generation.template=falcon",
                    "retrieval.embedder=quantized", "retrieval.context_tokens=256", "retrieval.k=2")).value();
        }

        /**
         * Serves {@code generators} (one model each, named {@code names}; none: the default) with {@code server.max_batch}
         * {@code maxBatch}, sends each level of concurrent clients and prints a table row per level.
         */
        Map<Integer, Row> measure(int maxBatch, List<TextGenerator> generators, List<String> names, int[] levels) throws Exception {
            ServeConfig config = config(maxBatch);
            Clock clock = Clock.systemUTC();
            NewsRetriever retriever = new NewsRetriever(embedder, store, new StoreSymbols(store, Duration.ofMinutes(1)),
                    new SymbolDetector(Map.of()), config.retrieval().candidates(), true, clock);
            List<AdviceChain> chains = new ArrayList<>();
            for (int i = 0; i < generators.size(); i++) {
                chains.add(new AdviceChain(generators.get(i), PromptTemplates.byName("falcon", null), retriever, config,
                        names.isEmpty() ? null : names.get(i), names.isEmpty() ? null : names.get(i)));
            }
            dev.finadvisor.llm.BatchedGenerator batching = generators.get(0).batching();
            Path log = dir.resolve("prompts-" + System.nanoTime() + ".jsonl");
            Map<Integer, Row> rows = new java.util.TreeMap<>();
            try (AdvisorServer server = new AdvisorServer(config, new Secrets(Map.of()),
                    new PromptLog(log, 1L << 30, 1, List.of(), AdvisorServer.mapper()), clock)) {
                String base = "http://127.0.0.1:" + server.start();
                server.ready(new dev.finadvisor.inference.ServedModels(chains, null));
                run(base, 1, 2, maxNew, names); // warm-up: JIT, libtorch, first allocations
                Files.deleteIfExists(log);
                System.out.println("| clients | requests | req/s | output tok/s | latency p50 | p99 | first token p50 | p99 | mean decode batch | retrieval | waiting | prefill | decode | prompt tokens |");
                System.out.println("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
                for (int clients : levels) {
                    long logStart = Files.exists(log) ? Files.readAllLines(log).size() : 0;
                    long[] stepsBefore = batching.stepsBySize();
                    // A single client sends at least 3 requests, so its percentiles mean something.
                    Result r = run(base, clients, clients == 1 ? Math.max(3, perClient) : perClient, maxNew, names);
                    long[] steps = batching.stepsBySize();
                    double stepCount = 0, sequenceSteps = 0;
                    for (int n = 1; n < steps.length; n++) {
                        stepCount += steps[n] - stepsBefore[n];
                        sequenceSteps += n * (steps[n] - stepsBefore[n]);
                    }
                    List<String> lines = Files.readAllLines(log);
                    List<JsonNode> recs = new ArrayList<>();
                    for (String l : lines.subList((int) logStart, lines.size())) recs.add(JSON.readTree(l));
                    double retrieval = mean(recs, "retrieval_ms"), prefill = mean(recs, "prefill_ms"), decode = mean(recs, "decode_ms");
                    // generation_ms runs from admission to the model to the last token: what is not prefill or decode is waiting.
                    double waiting = mean(recs, "generation_ms") - prefill - decode;
                    double promptTokens = recs.stream().mapToDouble(n -> n.get("usage").get("prompt_tokens").asDouble()).average().orElse(0);
                    long tokens = recs.stream().mapToLong(n -> n.get("usage").get("completion_tokens").asLong()).sum();
                    Row row = new Row(r.latencies.size() / r.seconds, tokens / r.seconds, pct(r.firstTokens, 99));
                    rows.put(clients, row);
                    System.out.printf(Locale.ROOT, "| %d | %d | %.2f | %.1f | %.0f ms | %.0f ms | %.0f ms | %.0f ms | %.1f | %.0f ms | %.0f ms | %.0f ms | %.0f ms | %.0f |%n",
                            clients, r.latencies.size(), row.requestsPerSecond, row.tokensPerSecond, pct(r.latencies, 50), pct(r.latencies, 99),
                            pct(r.firstTokens, 50), row.firstTokenP99, stepCount == 0 ? 0 : sequenceSteps / stepCount, retrieval,
                            Math.max(0, waiting), prefill, decode, promptTokens);
                }
            }
            return rows;
        }
    }

    record Row(double requestsPerSecond, double tokensPerSecond, double firstTokenP99) {}

    record Result(List<Double> latencies, List<Double> firstTokens, double seconds) {}

    /** Client c asks adapter {@code adapters[c % n]} (none: the default model). */
    static Result run(String base, int clients, int perClient, int maxNew, List<String> adapters) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
        List<Double> firsts = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long t0 = System.nanoTime();
        List<Future<?>> futures = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int client = c;
            futures.add(pool.submit(() -> {
                SplittableRandom random = new SplittableRandom(client);
                for (int i = 0; i < perClient; i++) {
                    int t = random.nextInt(TOPICS.length);
                    String body = "{\"about_me\": \"I am " + (25 + random.nextInt(40)) + " and invest monthly.\", \"question\": \"What does the news on "
                            + TOPICS[t] + " mean for my portfolio?\", \"options\": {\"max_new_tokens\": " + maxNew + "}"
                            + (adapters.isEmpty() ? "" : ", \"adapter\": \"" + adapters.get(client % adapters.size()) + "\"") + "}";
                    long s = System.nanoTime();
                    HttpResponse<java.io.InputStream> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/advice/stream")).header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
                    if (r.statusCode() != 200) throw new IllegalStateException("status " + r.statusCode());
                    double first = -1;
                    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                        for (String line; (line = in.readLine()) != null; ) {
                            if (first < 0 && line.equals("event: token")) first = (System.nanoTime() - s) / 1e6;
                            if (line.equals("event: done")) break;
                        }
                    }
                    latencies.add((System.nanoTime() - s) / 1e6);
                    if (first >= 0) firsts.add(first);
                }
                return null;
            }));
        }
        for (Future<?> f : futures) f.get();
        pool.shutdown();
        return new Result(latencies, firsts, (System.nanoTime() - t0) / 1e9);
    }

    static void fillStore(LuceneVectorStore store, MiniLmEmbedder embedder, Instant now, int articles) {
        List<ChunkPayload> chunks = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < articles; i++) {
            int t = i % TOPICS.length;
            String text = "Report " + i + " on " + TOPICS[t] + ": analysts expect " + (random.nextBoolean() ? "higher" : "lower")
                    + " results next quarter as demand " + (random.nextBoolean() ? "grows" : "slows") + " and costs " + random.nextInt(20) + "% change.";
            chunks.add(new ChunkPayload(i, 0, text, TOPICS[t] + " update " + i, "", "https://news.example.com/" + i,
                    SYMBOLS[t].isEmpty() ? List.of() : List.of(SYMBOLS[t]), "bench", "bench",
                    now.minus(Duration.ofHours(random.nextInt(24 * 14))), now));
        }
        List<float[]> vectors = embedder.embedAll(chunks.stream().map(ChunkPayload::text).toList());
        List<Point> points = new ArrayList<>();
        for (int i = 0; i < chunks.size(); i++) points.add(new Point(chunks.get(i).pointId(), vectors.get(i), chunks.get(i)));
        store.upsert(points);
        store.commit();
    }

    static double mean(List<JsonNode> recs, String field) {
        return recs.stream().mapToDouble(n -> n.get("latency").get(field).asDouble()).average().orElse(0);
    }

    static double pct(List<Double> values, int p) {
        if (values.isEmpty()) return Double.NaN;
        List<Double> s = new ArrayList<>(values);
        Collections.sort(s);
        return s.get(Math.min(s.size() - 1, (int) Math.ceil(p / 100.0 * s.size()) - 1));
    }
}
