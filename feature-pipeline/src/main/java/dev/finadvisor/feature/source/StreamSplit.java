package dev.finadvisor.feature.source;

import java.time.Instant;
import java.util.List;

/**
 * The Alpaca news WebSocket for {@code symbols} (empty: all): the newest {@code created_at} emitted
 * (the start of the REST backfill after a reconnect or restart) and the {@code id@updated_at} keys of
 * the latest articles emitted, so the backfill's overlap does not emit them twice.
 */
public record StreamSplit(List<String> symbols, Instant lastSeenAt, List<String> recentKeys) implements NewsSplit {
    public StreamSplit {
        symbols = symbols == null ? List.of() : List.copyOf(symbols);
        recentKeys = recentKeys == null ? List.of() : List.copyOf(recentKeys);
    }

    @Override
    public String splitId() {
        return "stream";
    }
}
