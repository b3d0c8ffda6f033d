package dev.finadvisor.inference;

/** Where one request's time went. */
public record Timings(long retrievalMs, long generationMs) {}
