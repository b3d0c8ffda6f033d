package dev.finadvisor.inference;

/** How to sample one answer. */
public record Sampling(int maxNewTokens, double temperature, int topK, double topP, double repetitionPenalty, long seed) {}
