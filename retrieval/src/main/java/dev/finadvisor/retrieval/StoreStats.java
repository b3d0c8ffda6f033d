package dev.finadvisor.retrieval;

import java.time.Instant;

/**
 * What a vector store holds: its kind and location, how many points, and the range of their
 * {@code created_at} (null where the store cannot tell cheaply, or holds nothing).
 */
public record StoreStats(String kind, String location, long points, Instant oldestCreatedAt, Instant newestCreatedAt) {}
