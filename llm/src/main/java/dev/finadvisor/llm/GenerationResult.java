package dev.finadvisor.llm;

/**
 * What {@link LanguageModel#generate} produced. {@code generatedIds} are the new tokens only (an
 * ending end-of-sequence token included; {@code text} leaves special tokens out and ends before a stop
 * string). {@code finishReason} is {@code eos}, {@code stop}, {@code length} or {@code cancelled}.
 */
public record GenerationResult(int[] promptIds, int[] generatedIds, String text, String finishReason, long prefillMs,
                               double decodeTokensPerSecond) {}
