package dev.finadvisor.feature.source;

import java.io.Serializable;
import java.net.URI;
import java.time.Duration;

/**
 * Where Alpaca's news endpoints are and how hard to try: the REST URL of {@code /v1beta1/news}, the
 * news WebSocket URL, page size, retries and backoff for REST, reconnect backoff for the stream, and
 * how far before the last article seen a post-reconnect backfill starts.
 */
public record AlpacaSettings(
        URI restUrl,
        URI streamUrl,
        int pageLimit,
        int maxRetries,
        Duration backoffInitial,
        Duration backoffMax,
        Duration gapOverlap,
        Duration controlTimeout) implements Serializable {

    public static final URI DEFAULT_REST = URI.create("https://data.alpaca.markets/v1beta1/news");
    public static final URI DEFAULT_STREAM = URI.create("wss://stream.data.alpaca.markets/v1beta1/news");
}
