package dev.finadvisor.retrieval;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The stored form of a {@link ChunkPayload}: JSON with snake_case names and ISO-8601 times. */
final class PayloadJson {
    private static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

    private PayloadJson() {}

    static byte[] write(ChunkPayload payload) {
        try {
            return JSON.writeValueAsBytes(payload);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise the payload of article " + payload.articleId(), e);
        }
    }

    static ChunkPayload read(byte[] bytes, String pointId) {
        try {
            return JSON.readValue(bytes, ChunkPayload.class);
        } catch (IOException e) {
            throw new UncheckedIOException("stored payload of point '" + pointId + "' is unreadable: " + e.getMessage(), e);
        }
    }
}
