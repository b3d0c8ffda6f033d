package dev.finadvisor.feature.source;

import java.time.Instant;
import java.util.List;

/**
 * Alpaca REST news from {@code from} to {@code to} (oldest first) for {@code symbols} (empty: all):
 * the page being read ({@code pageToken}, null for the first) and how many of its articles were emitted.
 */
public record BackfillSplit(Instant from, Instant to, List<String> symbols, String pageToken, int doneInPage) implements NewsSplit {
    public BackfillSplit {
        symbols = symbols == null ? List.of() : List.copyOf(symbols);
    }

    @Override
    public String splitId() {
        return "backfill";
    }
}
