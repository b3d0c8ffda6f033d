package dev.finadvisor.retrieval;

/** A search result: the point id, its similarity (cosine, higher is closer) and its payload. */
public record Hit(String id, float score, ChunkPayload payload) {}
