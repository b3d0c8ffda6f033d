package dev.finadvisor.inference;

import dev.finadvisor.llm.BatchedGenerator;
import java.util.function.BooleanSupplier;

/**
 * The served model as the chain sees it: count tokens, generate a continuation of a prompt. {@link #generate} may be
 * called from {@link #maxBatch} threads at once: a batching generator runs them together.
 */
public interface TextGenerator extends AutoCloseable {
    /** The base model's id (e.g. its folder name). */
    String modelId();

    /** Tokens the model's own tokenizer makes of {@code text} as a prompt (with the special tokens it adds, e.g. BOS). */
    int countTokens(String text);

    /** The longest sequence (prompt + answer) the model handles. */
    int maxSequenceLength();

    /** Generates until end-of-sequence, the token limit or {@code cancelled}; calls {@code sink} per decoded piece. */
    Generation generate(String prompt, Sampling sampling, TokenSink sink, BooleanSupplier cancelled);

    /** Generations it runs at once (the server queues the rest): its batch, or one. */
    default int maxBatch() {
        return batching() == null ? 1 : batching().limits().maxBatch();
    }

    /** Its continuous batching, for metrics; null when it runs one generation at a time on its own. */
    default BatchedGenerator batching() {
        return null;
    }

    @Override
    default void close() {}
}
