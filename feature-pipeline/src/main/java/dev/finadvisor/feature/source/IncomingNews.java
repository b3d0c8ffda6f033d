package dev.finadvisor.feature.source;

/**
 * One news message as a source received it, before any parsing: the raw JSON of one article (or
 * whatever arrived), where it came from (file and line, stream message, REST page) and when; and,
 * when the bytes could not even be read as text, why ({@code unreadable}: a dead letter without parsing).
 */
public record IncomingNews(String json, String origin, long receivedAtMillis, String unreadable) {
    public IncomingNews(String json, String origin, long receivedAtMillis) {
        this(json, origin, receivedAtMillis, null);
    }
}
