package dev.finadvisor.inference;

/** Model tokens consumed by one request. */
public record Usage(int promptTokens, int completionTokens) {}
