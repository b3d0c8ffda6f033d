package dev.finadvisor.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The prompt monitor: one JSON line per request (what was asked, the full prompt, the answer, tokens,
 * hits, latencies, model and adapter), with configured patterns redacted from every text. When a line
 * would push the file past {@code maxBytes} it rotates: {@code prompts.jsonl} becomes {@code prompts.1.jsonl},
 * {@code .1} becomes {@code .2}, ..., and the oldest beyond {@code keepFiles} is deleted.
 */
public final class PromptLog implements AutoCloseable {
    static final String REDACTED = "[REDACTED]";
    private final Path file;
    private final long maxBytes;
    private final int keepFiles;
    private final List<Pattern> redact;
    private final ObjectMapper json;
    private long size;

    public PromptLog(Path file, long maxBytes, int keepFiles, List<String> redactPatterns, ObjectMapper json) {
        this.file = file.toAbsolutePath();
        this.maxBytes = maxBytes;
        this.keepFiles = keepFiles;
        this.redact = redactPatterns.stream().map(Pattern::compile).toList();
        this.json = json;
        try {
            Files.createDirectories(this.file.getParent());
            this.size = Files.exists(this.file) ? Files.size(this.file) : 0;
        } catch (IOException e) {
            throw new dev.finadvisor.domain.UserError("prompt log " + this.file + ": cannot create: " + e.getMessage()
                    + "; set prompt_log.path to a writable file, or empty to turn the log off", e);
        }
    }

    public Path file() {
        return file;
    }

    /** Appends one record (any JSON-serialisable map), redacted. */
    public synchronized void append(Map<String, Object> record) {
        JsonNode tree = redact(json.valueToTree(record));
        byte[] line;
        try {
            line = (json.writeValueAsString(tree) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            if (size > 0 && size + line.length > maxBytes) rotate();
            Files.write(file, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            size += line.length;
        } catch (IOException e) {
            throw new UncheckedIOException("prompt log " + file + ": " + e.getMessage(), e);
        }
    }

    /** Replaces every match of the redaction patterns in a text. */
    public String redact(String text) {
        String s = text;
        for (Pattern p : redact) s = p.matcher(s).replaceAll(REDACTED);
        return s;
    }

    private JsonNode redact(JsonNode node) {
        if (node.isTextual()) return TextNode.valueOf(redact(node.textValue()));
        if (node instanceof ObjectNode o) {
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                var e = it.next();
                e.setValue(redact(e.getValue()));
            }
        } else if (node instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) a.set(i, redact(a.get(i)));
        }
        return node;
    }

    private void rotate() throws IOException {
        if (keepFiles == 0) {
            Files.deleteIfExists(file);
        } else {
            Files.deleteIfExists(rotated(keepFiles));
            for (int i = keepFiles - 1; i >= 1; i--) {
                if (Files.exists(rotated(i))) Files.move(rotated(i), rotated(i + 1), StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(file, rotated(1), StandardCopyOption.REPLACE_EXISTING);
        }
        size = 0;
    }

    /** {@code prompts.jsonl} -> {@code prompts.N.jsonl}. */
    public Path rotated(int n) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String rotated = dot <= 0 ? name + "." + n : name.substring(0, dot) + "." + n + name.substring(dot);
        return file.resolveSibling(rotated);
    }

    @Override
    public void close() {}
}
