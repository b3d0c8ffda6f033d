package dev.finadvisor.retrieval;

/** One vector in the store: id, a unit-length embedding, and the chunk it embeds. */
public record Point(String id, float[] vector, ChunkPayload payload) {}
