package dev.finadvisor.inference;

import java.time.Duration;

/** Per-request knobs, each already checked against the server's limits. */
public record AdviceOptions(int maxNewTokens, double temperature, int k, Duration since) {}
