package dev.finadvisor.feature.source;

/**
 * One news message as a source received it, before any parsing: the raw JSON of one article (or
 * whatever arrived), where it came from (file and line, stream message, REST page) and when.
 */
public record IncomingNews(String json, String origin, long receivedAtMillis) {}
