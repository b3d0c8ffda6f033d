package dev.finadvisor.inference.server;

import dev.finadvisor.llm.BatchedGenerator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/** The server's Prometheus metrics (text exposition format 0.0.4), kept in process without a client library. */
public final class Metrics {
    private static final double[] LATENCY = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
    private static final double[] HITS = {0, 1, 2, 3, 5, 10};
    private static final double[] BATCH = {1, 2, 4, 8, 16, 32, 64, 128, 256};

    private final Map<List<String>, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, Histogram> latency = new ConcurrentHashMap<>();
    private final Histogram firstToken = new Histogram(LATENCY);
    private final Histogram retrievalSeconds = new Histogram(LATENCY);
    private final Histogram prefillSeconds = new Histogram(LATENCY);
    private final Histogram decodeSeconds = new Histogram(LATENCY);
    private final Histogram retrievalHits = new Histogram(HITS);
    private final LongAdder completionTokens = new LongAdder();
    private final LongAdder promptTokens = new LongAdder();
    private final DoubleAdder decodeSecondsTotal = new DoubleAdder();
    private final AtomicLong lastTokensPerSecondBits = new AtomicLong(Double.doubleToLongBits(0));
    private final Map<String, LongAdder> finishes = new ConcurrentHashMap<>();
    /** Per served model (base, adapter): generations and tokens generated. */
    private final Map<String, LongAdder> generationsByModel = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> tokensByModel = new ConcurrentHashMap<>();
    private final LongAdder queueRejected = new LongAdder();
    private final IntSupplier queueDepth;
    private final LongSupplier connectionsRefused;
    /** The model's continuous batching, read at scrape time (null: not loaded, or none). */
    private final Supplier<BatchedGenerator> batching;

    public Metrics(IntSupplier queueDepth, LongSupplier connectionsRefused, Supplier<BatchedGenerator> batching) {
        this.queueDepth = queueDepth;
        this.connectionsRefused = connectionsRefused;
        this.batching = batching;
    }

    public void request(String route, String method, int status, double seconds) {
        requests.computeIfAbsent(List.of(route, method, Integer.toString(status)), k -> new LongAdder()).increment();
        latency.computeIfAbsent(route, r -> new Histogram(LATENCY)).observe(seconds);
    }

    public void retrieval(double seconds, int hits) {
        retrievalSeconds.observe(seconds);
        retrievalHits.observe(hits);
    }

    public void generation(String model, int prompt, int completion, double prefillS, double decodeS, double firstTokenS, String finish) {
        generationsByModel.computeIfAbsent(model, m -> new LongAdder()).increment();
        tokensByModel.computeIfAbsent(model, m -> new LongAdder()).add(completion);
        promptTokens.add(prompt);
        completionTokens.add(completion);
        prefillSeconds.observe(prefillS);
        decodeSeconds.observe(decodeS);
        if (firstTokenS >= 0) firstToken.observe(firstTokenS);
        decodeSecondsTotal.add(decodeS);
        if (decodeS > 0 && completion > 0) lastTokensPerSecondBits.set(Double.doubleToLongBits(completion / decodeS));
        finishes.computeIfAbsent(finish, f -> new LongAdder()).increment();
    }

    public void queueRejected() {
        queueRejected.increment();
    }

    public String scrape() {
        StringBuilder out = new StringBuilder(4096);
        header(out, "finadvisor_http_requests_total", "counter", "HTTP requests by route, method and status.");
        new TreeMap<String, Long>(requests.entrySet().stream().collect(java.util.stream.Collectors.toMap(
                e -> "route=\"" + esc(e.getKey().get(0)) + "\",method=\"" + e.getKey().get(1) + "\",status=\"" + e.getKey().get(2) + "\"",
                e -> e.getValue().sum()))).forEach((labels, n) ->
                out.append("finadvisor_http_requests_total{").append(labels).append("} ").append(n).append('\n'));
        header(out, "finadvisor_http_request_duration_seconds", "histogram", "Time from request to the last byte of the response, by route.");
        new TreeMap<>(latency).forEach((route, h) -> h.write(out, "finadvisor_http_request_duration_seconds", "route=\"" + esc(route) + "\","));
        header(out, "finadvisor_time_to_first_token_seconds", "histogram", "Time from request to the first generated token.");
        firstToken.write(out, "finadvisor_time_to_first_token_seconds", "");
        header(out, "finadvisor_retrieval_duration_seconds", "histogram", "Embedding plus vector search time per request.");
        retrievalSeconds.write(out, "finadvisor_retrieval_duration_seconds", "");
        header(out, "finadvisor_retrieval_hits", "histogram", "Distinct news articles retrieved per request.");
        retrievalHits.write(out, "finadvisor_retrieval_hits", "");
        header(out, "finadvisor_prefill_duration_seconds", "histogram", "Time the model spent reading each prompt.");
        prefillSeconds.write(out, "finadvisor_prefill_duration_seconds", "");
        header(out, "finadvisor_decode_duration_seconds", "histogram", "Time the model spent generating each answer.");
        decodeSeconds.write(out, "finadvisor_decode_duration_seconds", "");
        header(out, "finadvisor_prompt_tokens_total", "counter", "Prompt tokens read by the model.");
        out.append("finadvisor_prompt_tokens_total ").append(promptTokens.sum()).append('\n');
        header(out, "finadvisor_completion_tokens_total", "counter", "Tokens generated.");
        out.append("finadvisor_completion_tokens_total ").append(completionTokens.sum()).append('\n');
        header(out, "finadvisor_decode_seconds_total", "counter", "Seconds spent generating (rate(completion_tokens)/rate(decode_seconds) = tokens/s).");
        out.append("finadvisor_decode_seconds_total ").append(Histogram.format(decodeSecondsTotal.sum())).append('\n');
        header(out, "finadvisor_decode_tokens_per_second", "gauge", "Decode speed of the most recent generation.");
        out.append("finadvisor_decode_tokens_per_second ").append(Histogram.format(Double.longBitsToDouble(lastTokensPerSecondBits.get()))).append('\n');
        counters(out, "finadvisor_generations_total", "Finished generations by finish reason (eos, stop, length, cancelled).", "finish_reason", finishes);
        counters(out, "finadvisor_model_generations_total", "Finished generations by served model (the base, each adapter).", "model", generationsByModel);
        counters(out, "finadvisor_model_completion_tokens_total", "Tokens generated by served model (the base, each adapter).", "model", tokensByModel);
        header(out, "finadvisor_queue_depth", "gauge", "Generations running or waiting for the model.");
        out.append("finadvisor_queue_depth ").append(queueDepth.getAsInt()).append('\n');
        header(out, "finadvisor_queue_rejected_total", "counter", "Requests turned away with 503 because the generation queue was full.");
        out.append("finadvisor_queue_rejected_total ").append(queueRejected.sum()).append('\n');
        BatchedGenerator b = batching.get();
        if (b != null) writeBatching(out, b);
        header(out, "finadvisor_connections_refused_total", "counter", "Connections closed as they opened because their client address already held server.max_connections_per_client.");
        out.append("finadvisor_connections_refused_total ").append(connectionsRefused.getAsLong()).append('\n');
        return out.toString();
    }

    /** A counter with one label, a line per value, in the label's order. */
    private static void counters(StringBuilder out, String name, String help, String label, Map<String, LongAdder> byValue) {
        header(out, name, "counter", help);
        new TreeMap<>(byValue).forEach((v, n) -> out.append(name).append('{').append(label).append("=\"").append(esc(v)).append("\"} ").append(n.sum()).append('\n'));
    }

    private static void writeBatching(StringBuilder out, BatchedGenerator b) {
        header(out, "finadvisor_decode_batch_size", "histogram", "Sequences decoded together in each decode step (continuous batching).");
        Histogram sizes = new Histogram(BATCH);
        long[] steps = b.stepsBySize();
        for (int n = 1; n < steps.length; n++) sizes.observe(n, steps[n]);
        sizes.write(out, "finadvisor_decode_batch_size", "");
        header(out, "finadvisor_sequences_running", "gauge", "Generations decoding or reading their prompt now (at most server.max_batch).");
        out.append("finadvisor_sequences_running ").append(b.running()).append('\n');
        header(out, "finadvisor_kv_cache_bytes", "gauge", "KV cache the running generations hold.");
        out.append("finadvisor_kv_cache_bytes ").append(b.kvCacheBytesInUse()).append('\n');
        header(out, "finadvisor_kv_cache_peak_bytes", "gauge", "The most KV cache the running generations held at once.");
        out.append("finadvisor_kv_cache_peak_bytes ").append(b.kvCacheBytesPeak()).append('\n');
        header(out, "finadvisor_kv_cache_budget_bytes", "gauge", "KV cache all generations may hold together (server.kv_cache_mb).");
        out.append("finadvisor_kv_cache_budget_bytes ").append(b.limits().kvCacheBytes()).append('\n');
    }

    private static void header(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static String esc(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
