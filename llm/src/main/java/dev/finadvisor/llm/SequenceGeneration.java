package dev.finadvisor.llm;

import dev.finadvisor.llm.tokenizer.StreamingDecoder;
import dev.finadvisor.llm.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.function.BooleanSupplier;

/**
 * One prompt's generation, a token at a time: its own sampler (seeded: its choices do not depend on the sequences it
 * runs beside), the tokens so far, its stop strings and listener. Whoever runs the model feeds it the logits after each
 * step ({@link #next}) and learns which token to feed back, until it has finished.
 */
final class SequenceGeneration {
    private final int[] prompt;
    private final GenerationConfig config;
    private final Tokenizer tokenizer;
    private final TokenListener onToken;
    private final BooleanSupplier cancelled;
    private final Sampler sampler;
    private final boolean[] seen;
    private final StreamingDecoder decoder;
    private final StopStrings stops;
    private final int[] generated;
    private int count;
    private String finish;
    private long prefillNanos;
    private long decodeNanos;
    private int decodeSteps;

    SequenceGeneration(int[] promptIds, GenerationConfig config, Tokenizer tokenizer, int vocab, TokenListener onToken,
                       BooleanSupplier cancelled) {
        this.prompt = promptIds.clone();
        this.config = config;
        this.tokenizer = tokenizer;
        this.onToken = onToken;
        this.cancelled = cancelled;
        this.sampler = new Sampler(config);
        this.seen = new boolean[vocab];
        for (int id : promptIds) seen[id] = true;
        this.decoder = tokenizer.streamingDecoder();
        this.stops = new StopStrings(config.stopStrings(), onToken);
        this.generated = new int[config.maxNewTokens()];
        if (config.maxNewTokens() == 0) finish = "length";
    }

    int[] prompt() {
        return prompt;
    }

    /** Positions its KV cache needs: the prompt and every new token but the last (which is never fed back), at least one. */
    int cachePositions() {
        return prompt.length + Math.max(1, config.maxNewTokens());
    }

    boolean cancelled() {
        return cancelled.getAsBoolean();
    }

    /**
     * Takes the logits after the last position fed, picks the next token and reports it; returns the token to feed for
     * another step, or -1 when the sequence has finished (end of sequence, stop string, max_new_tokens, cancelled).
     */
    int next(float[] logits) {
        if (cancelled.getAsBoolean()) return end("cancelled");
        int next = sampler.next(logits, seen);
        generated[count++] = next;
        seen[next] = true;
        if (tokenizer.specialTokens().isEos(next)) {
            onToken.onToken(next, "");
            return end("eos");
        }
        if (stops.add(next, decoder.add(next))) return end("stop");
        if (count == config.maxNewTokens()) return end("length");
        return next;
    }

    /** Ends the sequence with {@code reason} (e.g. cancelled before its prefill); returns -1. */
    int end(String reason) {
        finish = reason;
        return -1;
    }

    boolean finished() {
        return finish != null;
    }

    void prefilled(long nanos) {
        prefillNanos += nanos;
    }

    void decoded(long nanos) {
        decodeNanos += nanos;
        decodeSteps++;
    }

    /** What it produced; once finished. */
    GenerationResult result() {
        if (!finish.equals("stop")) stops.finish(decoder.flush());
        double decodeRate = decodeSteps == 0 ? 0 : decodeSteps / (decodeNanos / 1e9);
        return new GenerationResult(prompt.clone(), Arrays.copyOf(generated, count), stops.text(), finish, prefillNanos / 1_000_000, decodeRate);
    }
}
