package dev.finadvisor.inference;

import java.time.Duration;

/**
 * Per-request knobs, each already checked against the server's limits; {@code seed} null: the server's
 * {@code generation.seed} (a fresh one per request when that is -1).
 */
public record AdviceOptions(int maxNewTokens, double temperature, double topP, Long seed, int k, Duration since) {}
