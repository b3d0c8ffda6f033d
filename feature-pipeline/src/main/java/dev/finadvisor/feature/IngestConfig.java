package dev.finadvisor.feature;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.finadvisor.domain.config.Problems;
import dev.finadvisor.domain.config.Validated;
import dev.finadvisor.feature.source.AlpacaSettings;
import dev.finadvisor.retrieval.StoreConfig;
import java.net.URI;
import java.time.Duration;
import java.util.List;

/** Configuration of the ingest job ({@code ingest-defaults.yaml} holds every key and its default). */
public record IngestConfig(StoreConfig store, Alpaca alpaca, Chunking chunking, Sink sink, Flink flink) implements Validated {
    public static final String DEFAULTS = "ingest-defaults.yaml";

    /** Alpaca endpoints, retries and backoff. */
    public record Alpaca(
            @JsonProperty("rest_url") String restUrl,
            @JsonProperty("stream_url") String streamUrl,
            @JsonProperty("page_limit") int pageLimit,
            @JsonProperty("max_retries") int maxRetries,
            @JsonProperty("backoff_initial_ms") long backoffInitialMs,
            @JsonProperty("backoff_max_ms") long backoffMaxMs,
            @JsonProperty("gap_overlap_s") long gapOverlapSeconds,
            @JsonProperty("control_timeout_s") long controlTimeoutSeconds) implements Validated {

        public AlpacaSettings settings() {
            return new AlpacaSettings(URI.create(restUrl), URI.create(streamUrl), pageLimit, maxRetries,
                    Duration.ofMillis(backoffInitialMs), Duration.ofMillis(backoffMaxMs),
                    Duration.ofSeconds(gapOverlapSeconds), Duration.ofSeconds(controlTimeoutSeconds));
        }

        @Override
        public void validate(Problems problems) {
            checkUrl(problems, "rest_url", restUrl, List.of("http", "https"));
            checkUrl(problems, "stream_url", streamUrl, List.of("ws", "wss"));
            problems.requireRange("page_limit", pageLimit, 1, 50);
            problems.requireRange("max_retries", maxRetries, 0, 100);
            problems.requireRange("backoff_initial_ms", backoffInitialMs, 1, 600_000);
            problems.requireRange("backoff_max_ms", backoffMaxMs, backoffInitialMs, 3_600_000);
            problems.requireRange("gap_overlap_s", gapOverlapSeconds, 0, 86_400);
            problems.requireRange("control_timeout_s", controlTimeoutSeconds, 1, 600);
        }

        private static void checkUrl(Problems problems, String key, String url, List<String> schemes) {
            try {
                URI u = URI.create(url);
                if (u.getHost() == null || !schemes.contains(u.getScheme())) {
                    problems.add(key, "is '" + url + "', expected a " + String.join(" or ", schemes) + " URL with a host");
                }
            } catch (IllegalArgumentException | NullPointerException e) {
                problems.add(key, "is '" + url + "', not a URL");
            }
        }
    }

    /** Chunk size (0: the model's window) and overlap, in the model's word pieces. */
    public record Chunking(@JsonProperty("max_tokens") int maxTokens, @JsonProperty("overlap_tokens") int overlapTokens) implements Validated {
        @Override
        public void validate(Problems problems) {
            if (maxTokens != 0) problems.requireRange("max_tokens", maxTokens, 16, 100_000);
            problems.requireRange("overlap_tokens", overlapTokens, 0, maxTokens == 0 ? 127 : maxTokens / 2);
        }
    }

    /** How the sink batches embeddings, how often it commits and logs its metrics. */
    public record Sink(@JsonProperty("batch_chunks") int batchChunks,
                       @JsonProperty("batch_wait_ms") long batchWaitMs,
                       @JsonProperty("commit_interval_ms") long commitIntervalMs,
                       @JsonProperty("metrics_log_interval_s") long metricsLogIntervalSeconds) implements Validated {
        @Override
        public void validate(Problems problems) {
            problems.requireRange("batch_chunks", batchChunks, 1, 4096);
            problems.requireRange("batch_wait_ms", batchWaitMs, 0, 60_000);
            problems.requireRange("commit_interval_ms", commitIntervalMs, 0, 3_600_000);
            problems.requireRange("metrics_log_interval_s", metricsLogIntervalSeconds, 1, 3600);
        }
    }

    /**
     * Flink settings: the checkpoint interval, and how many parallel subtasks parse, chunk and embed the news (1: the
     * whole job in one chain, the sink embedding beside its writes; more: keyed by article id, each subtask with a model
     * of its own, into one store writer).
     */
    public record Flink(@JsonProperty("checkpoint_interval_ms") long checkpointIntervalMs,
                        @JsonProperty("parallelism") int parallelism) implements Validated {
        @Override
        public void validate(Problems problems) {
            problems.requireRange("checkpoint_interval_ms", checkpointIntervalMs, 100, 3_600_000);
            problems.requireRange("parallelism", parallelism, 1, 1024);
        }
    }

    @Override
    public void validate(Problems problems) {
        problems.nested("store", store);
        problems.nested("alpaca", alpaca);
        problems.nested("chunking", chunking);
        problems.nested("sink", sink);
        problems.nested("flink", flink);
    }
}
