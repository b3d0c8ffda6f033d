package dev.finadvisor.feature.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finadvisor.domain.util.LockFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
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
 * restore) is not written again. Parallel writers share the file: each line is appended whole while no
 * other writer appends ({@code FILE.lock}), after a newline if a writer killed mid-line left the file without one.
 */
final class DeadLetterFile {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final Set<String> written = new HashSet<>();

    DeadLetterFile(Path path) throws IOException {
        this.path = path;
        if (Files.exists(path)) {
            for (String line : Files.readAllLines(path, StandardCharsets.UTF_8)) {
                try {
                    JsonNode n = JSON.readTree(line);
                    written.add(key(n.path("origin").asText(), n.path("raw").asText()));
                } catch (IOException e) {
                    // a torn line from a crash: the message is written again
                }
            }
        }
    }

    /** Appends one dead letter; returns false if the file already held it. */
    boolean add(String origin, String reason, long receivedAtMillis, String raw) throws IOException {
        if (!written.add(key(origin, raw))) return false;
        ObjectNode line = JSON.createObjectNode()
                .put("origin", origin)
                .put("reason", reason)
                .put("received_at", Instant.ofEpochMilli(receivedAtMillis).toString())
                .put("raw", raw);
        byte[] bytes = (JSON.writeValueAsString(line) + '\n').getBytes(StandardCharsets.UTF_8);
        try (LockFile ignored = LockFile.beside(path);
             FileChannel out = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long end = out.size(); // the lock keeps every other writer from appending meanwhile
            if (end > 0 && !endsWithNewline(out, end)) end = write(out, end, new byte[] {'\n'});
            write(out, end, bytes);
        }
        return true;
    }

    private static boolean endsWithNewline(FileChannel file, long size) throws IOException {
        ByteBuffer last = ByteBuffer.allocate(1);
        file.read(last, size - 1);
        return last.get(0) == '\n';
    }

    /** Writes {@code bytes} at {@code at}; returns where they end. */
    private static long write(FileChannel out, long at, byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) at += out.write(buffer, at);
        return at;
    }

    private static String key(String origin, String raw) {
        return origin + '\u0000' + raw;
    }
}
