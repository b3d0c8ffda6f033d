package dev.finadvisor.retrieval;

import java.time.Instant;

/**
 * What a vector store holds: its kind and location, how many points (chunks) and distinct articles, and the range of
 * their {@code created_at} (articles and times null where the store cannot tell cheaply, or holds nothing).
 */
public record StoreStats(String kind, String location, long points, Long articles, Instant oldestCreatedAt, Instant newestCreatedAt) {}
