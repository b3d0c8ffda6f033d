package dev.finadvisor.feature.sink;

/**
 * A news message after parsing, validation and HTML cleaning: either a valid article (its JSON and
 * cleaned body) or a dead letter (the raw message and the reason it was refused). One flat record
 * so Flink serializes it as a POJO between operators.
 */
public record PreparedNews(String origin, long receivedAtMillis, String articleJson, String body, String deadLetterReason) {
    public static PreparedNews article(String origin, long receivedAtMillis, String articleJson, String body) {
        return new PreparedNews(origin, receivedAtMillis, articleJson, body, null);
    }

    /** A refused message: {@code raw} is kept verbatim in {@code articleJson}. */
    public static PreparedNews deadLetter(String origin, long receivedAtMillis, String raw, String reason) {
        return new PreparedNews(origin, receivedAtMillis, raw, null, reason);
    }

    public boolean isDeadLetter() {
        return deadLetterReason != null;
    }
}
