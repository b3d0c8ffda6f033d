package dev.finadvisor.llm;

import dev.finadvisor.domain.UserError;
import java.util.List;

/**
 * How to pick each new token: temperature 0 is greedy; otherwise logits are divided by the
 * temperature, cut to the {@code topK} best (0: no cut) and to the smallest set holding
 * {@code topP} of the probability (1: no cut), then sampled with a generator seeded by {@code seed}.
 * {@code repetitionPenalty} (1: none) scales down every token already in the prompt or output, as
 * Hugging Face's CTRL-style penalty does. Generation stops at an end-of-sequence token, when the text
 * contains one of {@code stopStrings} (which is cut off), or after {@code maxNewTokens}.
 */
public record GenerationConfig(int maxNewTokens, double temperature, int topK, double topP, double repetitionPenalty,
                               long seed, List<String> stopStrings) {
    public GenerationConfig {
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
        if (maxNewTokens < 0) throw new UserError("max_new_tokens is " + maxNewTokens + "; it must be 0 or more");
        if (!(temperature >= 0) || Double.isInfinite(temperature)) throw new UserError("temperature is " + temperature + "; it must be 0 (greedy) or a positive number");
        if (topK < 0) throw new UserError("top_k is " + topK + "; it must be 0 (off) or more");
        if (!(topP > 0 && topP <= 1)) throw new UserError("top_p is " + topP + "; it must be in (0, 1]");
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) throw new UserError("repetition_penalty is " + repetitionPenalty + "; it must be positive (1 = off)");
        for (String s : stopStrings) if (s.isEmpty()) throw new UserError("stop strings must not be empty");
    }

    /** Greedy decoding of up to {@code maxNewTokens}, no penalty, no stop strings. */
    public static GenerationConfig greedy(int maxNewTokens) {
        return new GenerationConfig(maxNewTokens, 0, 0, 1, 1, 0, List.of());
    }
}
