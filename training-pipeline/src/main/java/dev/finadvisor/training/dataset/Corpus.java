package dev.finadvisor.training.dataset;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.UserError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Text to learn a tokenizer or a language model from, as documents: a plain-text file is one document per paragraph
 * (blank-line separated); JSON Lines or a JSON array give one document per object, its string fields joined by newlines
 * (Q&A samples, news).
 */
public final class Corpus {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Corpus() {}

    /** The documents of {@code files}, in order; a bad file or line is a {@link UserError} naming it. */
    public static List<String> documents(List<Path> files, String option) {
        List<String> docs = new ArrayList<>();
        for (Path f : files) docs.addAll(documents(f, option));
        return docs;
    }

    static List<String> documents(Path f, String option) {
        String name = f.getFileName().toString().toLowerCase(Locale.ROOT);
        String content;
        try {
            content = Files.readString(f, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserError(option + " " + f + ": no such file");
        } catch (IOException e) {
            throw new UserError(option + " " + f + ": cannot read it as UTF-8 text (" + e.getMessage() + ")");
        }
        List<String> docs = new ArrayList<>();
        if (!name.endsWith(".jsonl") && !name.endsWith(".json")) {
            for (String p : content.split("\\n\\s*\\n")) if (!p.isBlank()) docs.add(p.strip());
            return docs;
        }
        List<JsonNode> records = new ArrayList<>();
        if (name.endsWith(".json")) {
            try {
                JSON.readTree(content).forEach(records::add);
            } catch (JsonProcessingException e) {
                throw new UserError(option + " " + f + ": not a JSON array (" + e.getOriginalMessage() + ")");
            }
        } else {
            String[] lines = content.split("\\n");
            for (int i = 0; i < lines.length; i++) {
                if (lines[i].isBlank()) continue;
                try {
                    records.add(JSON.readTree(lines[i]));
                } catch (JsonProcessingException e) {
                    throw new UserError(option + " " + f + " line " + (i + 1) + ": not JSON (" + e.getOriginalMessage() + ")");
                }
            }
        }
        for (JsonNode r : records) {
            StringBuilder doc = new StringBuilder();
            strings(r, doc);
            if (!doc.toString().isBlank()) docs.add(doc.toString().strip());
        }
        return docs;
    }

    private static void strings(JsonNode node, StringBuilder out) {
        if (node.isTextual()) out.append(node.asText().strip()).append('\n');
        else if (node.isContainerNode()) node.forEach(child -> strings(child, out));
    }
}
