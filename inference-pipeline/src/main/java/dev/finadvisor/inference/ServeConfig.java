package dev.finadvisor.inference;

import dev.finadvisor.domain.config.Problems;
import dev.finadvisor.domain.config.Validated;
import dev.finadvisor.llm.lowbit.WeightFormat;
import dev.finadvisor.retrieval.StoreConfig;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Configuration of {@code finadvisor serve} (defaults: {@code serve-defaults.yaml}). */
public record ServeConfig(Model model, Server server, Limits limits, Retrieval retrieval, Generation generation, Cors cors,
                          PromptLog prompt_log, StoreConfig store, Pages pages) implements Validated {
    /** The defaults resource, relative to this class. */
    public static final String DEFAULTS = "serve-defaults.yaml";

    /** How the model is held: {@code weights} is fp32, bf16, int8, nf4 or auto (the checkpoint's own precision). */
    public record Model(String weights) {
        public WeightFormat format() {
            return WeightFormat.parse(weights, "model.weights");
        }
    }

    /** Where and how the HTTP server listens. */
    public record Server(String host, int port, int max_body_bytes, int body_timeout_s, int max_connections_per_client,
                         int request_timeout_s, boolean web_ui, int max_batch, int kv_cache_mb, int prefill_chunk_tokens) {
        /** The model's continuous batching as configured. */
        public dev.finadvisor.llm.BatchedGenerator.Limits batching() {
            return new dev.finadvisor.llm.BatchedGenerator.Limits(max_batch, (long) kv_cache_mb << 20, prefill_chunk_tokens);
        }
    }

    /** What one client may send and how much work the server accepts. */
    public record Limits(int max_new_tokens_cap, int about_me_max_chars, int question_max_chars, int history_max_items,
                         int history_answer_max_chars, int queue_capacity, int rate_limit_per_minute, int rate_limit_burst) {}

    /** How news is retrieved for a question. */
    public record Retrieval(int k, int max_k, int candidates, String since, int context_tokens, boolean symbol_filter,
                            Map<String, String> company_names, String embedder) {
        public Retrieval {
            company_names = company_names == null ? Map.of() : Map.copyOf(company_names);
        }
    }

    /** Sampling defaults and the prompt template. */
    public record Generation(int max_new_tokens, double temperature, int top_k, double top_p, double repetition_penalty,
                             long seed, String template, int history_exchanges) {}

    /** Cross-origin access for browsers; empty list = off. */
    public record Cors(List<String> allowed_origins) {
        public Cors {
            allowed_origins = allowed_origins == null ? List.of() : List.copyOf(allowed_origins);
        }
    }

    /** The JSON-lines prompt log. */
    public record PromptLog(String path, long max_bytes, int keep_files, List<String> redact) {
        public PromptLog {
            redact = redact == null ? List.of() : List.copyOf(redact);
        }
    }

    /**
     * What the web pages show besides advice: training runs ({@code runs_dir}), the model registry ({@code registry}),
     * and the feature pipeline's state folder with its {@code metrics.json} ({@code ingest_state}; empty: where
     * {@code ingest} keeps it by default, {@link StoreConfig#ingestStateDir()}).
     */
    public record Pages(String runs_dir, String registry, String ingest_state) {}

    /** The ingest state folder the News page reads {@code metrics.json} from. */
    public java.nio.file.Path ingestState() {
        return pages.ingest_state() == null || pages.ingest_state().isBlank() ? store.ingestStateDir() : java.nio.file.Path.of(pages.ingest_state());
    }

    @Override
    public void validate(Problems p) {
        p.requireOneOf("model.weights", model.weights(), Arrays.stream(WeightFormat.values()).map(WeightFormat::id).toList());
        p.requireRange("server.port", server.port(), 0, 65535);
        p.requireRange("server.max_body_bytes", server.max_body_bytes(), 256, 64L << 20);
        p.requireRange("server.body_timeout_s", server.body_timeout_s(), 1, 3_600);
        p.requireRange("server.max_connections_per_client", server.max_connections_per_client(), 1, 1_000_000);
        p.requireRange("server.request_timeout_s", server.request_timeout_s(), 1, 86_400);
        p.requireRange("server.max_batch", server.max_batch(), 1, 1024);
        p.requireRange("server.kv_cache_mb", server.kv_cache_mb(), 1, 1 << 24);
        p.requireRange("server.prefill_chunk_tokens", server.prefill_chunk_tokens(), 0, 1 << 20);
        p.requireRange("limits.max_new_tokens_cap", limits.max_new_tokens_cap(), 1, 1 << 16);
        p.requireRange("limits.about_me_max_chars", limits.about_me_max_chars(), 1, 1 << 20);
        p.requireRange("limits.question_max_chars", limits.question_max_chars(), 1, 1 << 20);
        p.requireRange("limits.history_max_items", limits.history_max_items(), 0, 10_000);
        p.requireRange("limits.history_answer_max_chars", limits.history_answer_max_chars(), 1, 1 << 20);
        p.requireRange("limits.queue_capacity", limits.queue_capacity(), 0, 100_000);
        p.requireRange("limits.rate_limit_per_minute", limits.rate_limit_per_minute(), 0, 1_000_000);
        p.requireRange("limits.rate_limit_burst", limits.rate_limit_burst(), 1, 1_000_000);
        p.requireRange("retrieval.k", retrieval.k(), 0, retrieval.max_k());
        p.requireRange("retrieval.max_k", retrieval.max_k(), 1, 100);
        p.requireRange("retrieval.candidates", retrieval.candidates(), Math.max(1, retrieval.max_k()), 10_000);
        p.requireRange("retrieval.context_tokens", retrieval.context_tokens(), 0, 1 << 20);
        p.requireOneOf("retrieval.embedder", retrieval.embedder(), List.of("full", "quantized"));
        p.nested("store", store);
        p.requireNonBlank("pages.runs_dir", pages.runs_dir());
        p.requireNonBlank("pages.registry", pages.registry());
        try {
            Durations.parse(retrieval.since());
        } catch (IllegalArgumentException e) {
            p.add("retrieval.since", e.getMessage());
        }
        p.requireRange("generation.max_new_tokens", generation.max_new_tokens(), 1, limits.max_new_tokens_cap());
        p.requireRange("generation.temperature", generation.temperature(), 0.0, 5.0);
        p.requireRange("generation.top_k", generation.top_k(), 0, 1 << 20);
        if (!(generation.top_p() > 0 && generation.top_p() <= 1)) p.add("generation.top_p", "is " + generation.top_p() + ", must be in (0, 1]");
        p.requireRange("generation.repetition_penalty", generation.repetition_penalty(), 0.5, 5.0);
        p.requireRange("generation.history_exchanges", generation.history_exchanges(), 0, 100);
        if (generation.template() != null && !generation.template().isEmpty()) {
            p.requireOneOf("generation.template", generation.template(), dev.finadvisor.domain.prompt.PromptTemplates.NAMES);
        }
        if (prompt_log.path() != null && !prompt_log.path().isBlank()) {
            p.requireRange("prompt_log.max_bytes", prompt_log.max_bytes(), 1024, Long.MAX_VALUE);
            p.requireRange("prompt_log.keep_files", prompt_log.keep_files(), 0, 1000);
        }
        for (int i = 0; i < prompt_log.redact().size(); i++) {
            try {
                Pattern.compile(prompt_log.redact().get(i));
            } catch (PatternSyntaxException e) {
                p.add("prompt_log.redact[" + i + "]", "is not a regular expression: " + e.getDescription());
            }
        }
        for (String origin : cors.allowed_origins()) {
            if (!origin.equals("*") && !origin.matches("https?://[^/\\s]+")) {
                p.add("cors.allowed_origins", "'" + origin + "' is not '*' or an origin like https://example.com");
            }
        }
    }

    /** The recency window as a duration. */
    public Duration since() {
        return Durations.parse(retrieval.since());
    }
}
