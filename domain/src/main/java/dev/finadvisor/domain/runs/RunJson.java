package dev.finadvisor.domain.runs;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.finadvisor.domain.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * JSON of the run and registry files: snake_case names, ISO-8601 times, absent values left out,
 * unknown fields ignored (a newer writer stays readable). Errors name the file, line and field.
 */
public final class RunJson {
    /** The mapper for run.json, model.json, aliases.json and metrics lines. */
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .defaultPropertyInclusion(JsonInclude.Value.construct(JsonInclude.Include.NON_NULL, JsonInclude.Include.NON_NULL))
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS) // Python's json writes NaN / Infinity bare
            .build();

    private RunJson() {}

    /** Reads {@code file} as {@code type}; a missing, unreadable or malformed file is a {@link UserError} naming it. */
    public static <T> T read(Path file, Class<T> type) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": missing");
        } catch (IOException e) {
            throw new UserError(file + ": cannot read: " + e.getMessage(), e);
        }
        if (bytes.length == 0) throw new UserError(file + ": empty file, expected a JSON object");
        try {
            return MAPPER.readValue(bytes, type);
        } catch (JsonProcessingException e) {
            throw new UserError(describe(file.toString(), e), e);
        } catch (IOException e) {
            throw new UserError(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** The bytes of {@code value} as indented JSON with a final newline. */
    public static byte[] pretty(Object value) {
        try {
            byte[] json = MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(value);
            byte[] out = java.util.Arrays.copyOf(json, json.length + 1);
            out[json.length] = '\n';
            return out;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value.getClass().getSimpleName() + " as JSON", e);
        }
    }

    /** "FILE line L column C: field 'a.b': what was wrong" for a Jackson error. */
    static String describe(String file, JsonProcessingException e) {
        StringBuilder sb = new StringBuilder(file);
        JsonLocation loc = e.getLocation();
        if (loc != null && loc.getLineNr() > 0) sb.append(" line ").append(loc.getLineNr()).append(" column ").append(loc.getColumnNr());
        sb.append(": ");
        if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
            List<String> parts = new ArrayList<>();
            for (JsonMappingException.Reference r : m.getPath()) {
                parts.add(r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]");
            }
            sb.append("field '").append(String.join(".", parts).replace(".[", "[")).append("': ");
            Throwable cause = m.getCause();
            sb.append(cause instanceof UserError ? cause.getMessage() : m.getOriginalMessage());
        } else {
            sb.append("not valid JSON: ").append(e.getOriginalMessage());
        }
        return sb.toString();
    }
}
