package dev.finadvisor.inference;

import java.util.List;

/** How to sample one answer; generation also stops at any of {@code stopStrings} (the template's end-of-answer marker). */
public record Sampling(int maxNewTokens, double temperature, int topK, double topP, double repetitionPenalty, long seed,
                       List<String> stopStrings) {
    public Sampling {
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
    }
}
