package dev.finadvisor.feature.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;

/**
 * The dead-letter JSON Lines file: one {@code {"origin","reason","received_at","raw"}} object per
 * refused message. A message already in the file (same origin and raw text, e.g. replayed after a
 * restore) is not written again. Parallel writers share the file: each line is appended and flushed
 * while no other writer appends ({@link SharedFile}).
 */
final class DeadLetterFile implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final Set<String> written = new HashSet<>();
    private BufferedWriter out;

    DeadLetterFile(Path path) throws IOException {
        this.path = path;
        if (Files.exists(path)) {
            for (String line : Files.readAllLines(path, StandardCharsets.UTF_8)) {
                try {
                    JsonNode n = JSON.readTree(line);
                    written.add(key(n.path("origin").asText(), n.path("raw").asText()));
                } catch (IOException e) {
                    // a torn last line from a crash: the message is written again
                }
            }
        }
    }

    /** Appends one dead letter; returns false if the file already held it. */
    boolean add(String origin, String reason, long receivedAtMillis, String raw) throws IOException {
        if (!written.add(key(origin, raw))) return false;
        if (out == null) {
            if (path.getParent() != null) Files.createDirectories(path.getParent());
            out = Files.newBufferedWriter(path, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        ObjectNode line = JSON.createObjectNode()
                .put("origin", origin)
                .put("reason", reason)
                .put("received_at", Instant.ofEpochMilli(receivedAtMillis).toString())
                .put("raw", raw);
        String text = JSON.writeValueAsString(line) + '\n';
        SharedFile.update(path, () -> {
            out.write(text);
            out.flush();
        });
        return true;
    }

    @Override
    public void close() throws IOException {
        if (out != null) out.close();
    }

    private static String key(String origin, String raw) {
        return origin + '\u0000' + raw;
    }
}
