package dev.finadvisor.inference;

import java.util.function.BooleanSupplier;

/** The served model as the chain sees it: count tokens, generate a continuation of a prompt. */
public interface TextGenerator extends AutoCloseable {
    /** The base model's id (e.g. its folder name). */
    String modelId();

    /** Tokens the model's own tokenizer makes of {@code text}. */
    int countTokens(String text);

    /** The longest sequence (prompt + answer) the model handles. */
    int maxSequenceLength();

    /** Generates until end-of-sequence, the token limit or {@code cancelled}; calls {@code sink} per decoded piece. */
    Generation generate(String prompt, Sampling sampling, TokenSink sink, BooleanSupplier cancelled);

    @Override
    default void close() {}
}
