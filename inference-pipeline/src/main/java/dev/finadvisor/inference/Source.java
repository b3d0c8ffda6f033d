package dev.finadvisor.inference;

import java.time.Instant;
import java.util.List;

/** A news article the answer was grounded in, as cited to the user. */
public record Source(String headline, String url, Instant createdAt, List<String> symbols, double score) {}
