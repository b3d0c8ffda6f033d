package dev.finadvisor.domain.qa;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.runs.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.RandomAccess;

/**
 * A validated Q&A dataset read from a file: a JSON array of records (the course's
 * training_data.json) or JSON Lines (one record per line). It is the list of its samples.
 *
 * <p>{@link #load} checks every record and reports every problem at once, each naming the file,
 * record number (and line), field and what is wrong: missing, empty, wrong type, over the length
 * limit, not valid UTF-8. A file that is not JSON at all is one error. Fields the format does not
 * know are kept in {@link QaSample#extra()}.
 */
public final class QaDataset extends AbstractList<QaSample> implements RandomAccess {

    /** How strict loading is. */
    public record Options(boolean requireResponse, int maxFieldChars) {
        /** Training data: every record needs a response; fields up to 20,000 characters. */
        public static final Options TRAINING = new Options(true, 20_000);
        /** Requests or evaluation questions: the response may be absent. */
        public static final Options INFERENCE = new Options(false, 20_000);

        public Options {
            if (maxFieldChars < 1) throw new IllegalArgumentException("maxFieldChars must be positive, is " + maxFieldChars);
        }
    }

    /** The file layouts a dataset can have. */
    public enum Format { JSON_ARRAY, JSON_LINES }

    /** One problem found while loading: where ({@code record} is 1-based; 0 for the file as a whole) and what. */
    public record Problem(int record, int line, String message) {
        @Override
        public String toString() {
            if (record == 0) return line > 0 ? "line " + line + ": " + message : message;
            return "record " + record + (line > 0 ? " (line " + line + ")" : "") + ": " + message;
        }
    }

    /** A dataset that did not load: every problem found, in file order. */
    public static final class InvalidDatasetException extends UserError {
        private final Path file;
        private final List<Problem> problems;

        InvalidDatasetException(Path file, List<Problem> problems) {
            super(describe(file, problems));
            this.file = file;
            this.problems = List.copyOf(problems);
        }

        public Path file() {
            return file;
        }

        public List<Problem> problems() {
            return problems;
        }

        private static String describe(Path file, List<Problem> problems) {
            if (problems.size() == 1) return file + " " + problems.get(0) + " (nothing loaded)";
            StringBuilder sb = new StringBuilder().append(file).append(": ").append(problems.size())
                    .append(" problems (nothing loaded; fix them and load again):");
            int shown = Math.min(problems.size(), MAX_PROBLEMS_SHOWN);
            for (int i = 0; i < shown; i++) sb.append("\n  ").append(problems.get(i));
            if (shown < problems.size()) sb.append("\n  ... and ").append(problems.size() - shown).append(" more");
            return sb.toString();
        }
    }

    static final int MAX_PROBLEMS_SHOWN = 200;
    /** Stands in for undecodable bytes; a noncharacter, so no real text carries it. */
    static final char INVALID_UTF8 = '\uFFFF';
    static final List<String> KNOWN_FIELDS = List.of("about_me", "context", "question", "response", "chat_history");

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    // One JSON Lines record is one value: anything after it on the line is an error, not the next record.
    private static final ObjectReader ONE_VALUE = JSON.readerFor(JsonNode.class)
            .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path source;
    private final Format format;
    private final List<QaSample> samples;

    private QaDataset(Path source, Format format, List<QaSample> samples) {
        this.source = source;
        this.format = format;
        this.samples = List.copyOf(samples);
    }

    /** Loads training data (every record needs a response). */
    public static QaDataset load(Path file) {
        return load(file, Options.TRAINING);
    }

    /** Loads and validates {@code file}; throws {@link InvalidDatasetException} listing every problem. */
    public static QaDataset load(Path file, Options options) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new UserError("cannot read dataset " + file + ": no such file", e);
        } catch (IOException e) {
            throw new UserError("cannot read dataset " + file + ": " + e.getMessage(), e);
        }
        String text = decode(bytes);
        int first = firstNonBlank(text);
        if (first < 0) throw new InvalidDatasetException(file, List.of(new Problem(0, 0, "is empty: no records")));
        char c = text.charAt(first);
        List<Problem> problems = new ArrayList<>();
        List<QaSample> samples = new ArrayList<>();
        Format format;
        if (c == '[') {
            format = Format.JSON_ARRAY;
            readArray(text, options, samples, problems);
        } else if (c == '{') {
            format = Format.JSON_LINES;
            readLines(text, options, samples, problems);
        } else {
            throw new InvalidDatasetException(file, List.of(new Problem(0, 0, "is not JSON (it starts with '"
                    + printable(text.substring(first, Math.min(text.length(), first + 20)))
                    + "'): give a JSON array of records or JSON Lines, one {\"about_me\", \"context\", \"question\", \"response\"} object per line")));
        }
        if (!problems.isEmpty()) throw new InvalidDatasetException(file, problems);
        if (samples.isEmpty()) throw new InvalidDatasetException(file, List.of(new Problem(0, 0, "holds no records")));
        return new QaDataset(file, format, samples);
    }

    /** Wraps samples already in memory (e.g. generated ones), validating them like a file's records. */
    public static QaDataset of(List<QaSample> samples, Options options) {
        List<Problem> problems = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            JsonNode node = JSON.valueToTree(samples.get(i));
            new RecordReader(i + 1, 0, options, problems).read(node);
        }
        if (!problems.isEmpty()) throw new InvalidDatasetException(Path.of("(in memory)"), problems);
        return new QaDataset(null, Format.JSON_LINES, samples);
    }

    public Path source() {
        return source;
    }

    public Format format() {
        return format;
    }

    public List<QaSample> samples() {
        return samples;
    }

    @Override
    public QaSample get(int index) {
        return samples.get(index);
    }

    @Override
    public int size() {
        return samples.size();
    }

    /**
     * Writes samples to {@code file}: a pretty-printed JSON array if it ends in {@code .json},
     * JSON Lines otherwise. Written to a temporary file and renamed, so a reader never sees half a file.
     */
    public static void write(Path file, List<QaSample> samples) {
        try {
            StringBuilder text = new StringBuilder();
            if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json")) {
                text.append(JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(samples)).append('\n');
            } else {
                for (QaSample s : samples) text.append(JSON.writeValueAsString(s)).append('\n');
            }
            Files.createDirectories(file.toAbsolutePath().getParent());
            AtomicFiles.write(file, text.toString().getBytes(StandardCharsets.UTF_8)); // the usual permissions, not a temp file's 0600
        } catch (IOException | UncheckedIOException e) {
            throw new UserError("cannot write dataset " + file + ": " + e.getMessage(), e);
        }
    }

    // --- reading ---

    /** UTF-8 with every undecodable byte sequence turned into {@link #INVALID_UTF8}, so records can name it. */
    static String decode(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE)
                .replaceWith(String.valueOf(INVALID_UTF8));
        try {
            CharBuffer chars = decoder.decode(ByteBuffer.wrap(bytes));
            String s = chars.toString();
            return s.startsWith("\uFEFF") ? s.substring(1) : s;
        } catch (CharacterCodingException e) {
            throw new IllegalStateException("a replacing decoder threw", e);
        }
    }

    private static void readArray(String text, Options options, List<QaSample> samples, List<Problem> problems) {
        try (JsonParser p = JSON.getFactory().createParser(text)) {
            p.nextToken(); // '['
            int record = 0;
            while (true) {
                JsonToken t;
                try {
                    t = p.nextToken();
                } catch (JsonProcessingException e) {
                    problems.add(syntax(record + 1, e));
                    return;
                }
                if (t == JsonToken.END_ARRAY) break;
                if (t == null) {
                    problems.add(new Problem(0, 0, "ends before the closing ']' of the array (after " + record + " records)"));
                    return;
                }
                record++;
                int line = p.currentTokenLocation().getLineNr();
                JsonNode node;
                try {
                    node = p.readValueAsTree();
                } catch (JsonProcessingException e) {
                    problems.add(syntax(record, e));
                    return;
                }
                QaSample s = new RecordReader(record, line, options, problems).read(node);
                if (s != null) samples.add(s);
            }
            JsonToken after;
            try {
                after = p.nextToken();
            } catch (JsonProcessingException e) {
                after = JsonToken.NOT_AVAILABLE;
            }
            if (after != null) {
                problems.add(new Problem(0, p.currentTokenLocation().getLineNr(), "text after the closing ']' of the array"));
            }
        } catch (IOException e) {
            throw new IllegalStateException("reading JSON from a string failed", e);
        }
    }

    private static Problem syntax(int record, JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        return new Problem(record, at == null ? 0 : at.getLineNr(), "not valid JSON (" + e.getOriginalMessage()
                + (at == null ? "" : ", column " + at.getColumnNr()) + "); records after it were not read");
    }

    private static void readLines(String text, Options options, List<QaSample> samples, List<Problem> problems) {
        String[] lines = text.split("\n", -1);
        int record = 0;
        List<Problem> local = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.isBlank()) continue;
            record++;
            JsonNode node;
            try {
                node = ONE_VALUE.readTree(line);
            } catch (JsonProcessingException e) {
                JsonLocation at = e.getLocation();
                local.add(new Problem(record, i + 1, "not valid JSON (" + e.getOriginalMessage()
                        + (at == null ? "" : ", column " + at.getColumnNr()) + ")"));
                continue;
            }
            QaSample s = new RecordReader(record, i + 1, options, local).read(node);
            if (s != null) samples.add(s);
        }
        // A pretty-printed single object looks like JSON Lines that fail on every line.
        if (!local.isEmpty() && samples.isEmpty() && local.size() == record) {
            try {
                JsonNode whole = ONE_VALUE.readTree(text);
                if (whole.isObject()) {
                    problems.add(new Problem(0, 0, "holds a single JSON object spread over several lines; give a JSON array"
                            + " of records ([{...}, {...}]) or JSON Lines (one object per line)"));
                    return;
                }
            } catch (JsonProcessingException ignored) {
                // not one object either: the per-line problems say what is wrong
            }
        }
        problems.addAll(local);
    }

    private static int firstNonBlank(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (!Character.isWhitespace(s.charAt(i))) return i;
        }
        return -1;
    }

    static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c == INVALID_UTF8) sb.append("\\x??");
            else if (c == '\n') sb.append("\\n");
            else if (Character.isISOControl(c)) sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            else sb.append(c);
        }
        return sb.toString();
    }

    /** Checks one record and builds its sample, adding a problem for everything wrong with it. */
    private static final class RecordReader {
        private final int record;
        private final int line;
        private final Options options;
        private final List<Problem> problems;
        private boolean ok = true;

        RecordReader(int record, int line, Options options, List<Problem> problems) {
            this.record = record;
            this.line = line;
            this.options = options;
            this.problems = problems;
        }

        QaSample read(JsonNode node) {
            if (!node.isObject()) {
                problem("is " + describe(node) + ", expected an object with about_me, context, question, response");
                return null;
            }
            String aboutMe = text(node, "about_me", true);
            String context = text(node, "context", true);
            String question = text(node, "question", true);
            String response = text(node, "response", options.requireResponse());
            List<QaSample.Exchange> history = history(node.get("chat_history"));
            Map<String, Object> extra = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                if (KNOWN_FIELDS.contains(e.getKey())) continue;
                if (e.getKey().indexOf(INVALID_UTF8) >= 0) {
                    problem("a field name is not valid UTF-8 ('" + printable(e.getKey()) + "')");
                } else if (containsInvalid(e.getValue())) {
                    problem("field '" + e.getKey() + "' is not valid UTF-8; save the file as UTF-8");
                }
                extra.put(e.getKey(), JSON.convertValue(e.getValue(), Object.class));
            }
            if (!ok) return null;
            return new QaSample(aboutMe, context, question, response, history, extra);
        }

        private String text(JsonNode node, String field, boolean required) {
            JsonNode v = node.get(field);
            if (v == null || v.isNull()) {
                if (required) problem((v == null ? "missing field '" : "field '") + field + (v == null ? "'" : "' is null"));
                return null;
            }
            return checkText(v, field);
        }

        private String checkText(JsonNode v, String field) {
            if (!v.isTextual()) {
                problem("field '" + field + "' is " + describe(v) + ", expected a string");
                return null;
            }
            String s = v.asText();
            if (s.indexOf(INVALID_UTF8) >= 0) {
                problem("field '" + field + "' is not valid UTF-8 (near '" + printable(around(s, s.indexOf(INVALID_UTF8)))
                        + "'); save the file as UTF-8");
            } else if (s.isBlank()) {
                problem("field '" + field + "' is empty");
            } else if (s.length() > options.maxFieldChars()) {
                problem(String.format(Locale.ROOT, "field '%s' has %,d characters, over the limit of %,d", field, s.length(),
                        options.maxFieldChars()));
            }
            return s;
        }

        private List<QaSample.Exchange> history(JsonNode v) {
            if (v == null || v.isNull()) return List.of();
            if (!v.isArray()) {
                problem("field 'chat_history' is " + describe(v) + ", expected a list of {\"question\", \"answer\"} objects");
                return List.of();
            }
            List<QaSample.Exchange> turns = new ArrayList<>();
            for (int i = 0; i < v.size(); i++) {
                JsonNode turn = v.get(i);
                String path = "chat_history[" + i + "]";
                if (!turn.isObject()) {
                    problem("field '" + path + "' is " + describe(turn) + ", expected an object with question and answer");
                    continue;
                }
                String q = required(turn, path + ".question", "question");
                String a = required(turn, path + ".answer", "answer");
                if (q != null && a != null) turns.add(new QaSample.Exchange(q, a));
            }
            return turns;
        }

        private String required(JsonNode parent, String path, String field) {
            JsonNode v = parent.get(field);
            if (v == null || v.isNull()) {
                problem((v == null ? "missing field '" : "field '") + path + (v == null ? "'" : "' is null"));
                return null;
            }
            return checkText(v, path);
        }

        private void problem(String message) {
            ok = false;
            problems.add(new Problem(record, line, message));
        }
    }

    private static boolean containsInvalid(JsonNode v) {
        if (v.isTextual()) return v.asText().indexOf(INVALID_UTF8) >= 0;
        if (v.isContainerNode()) {
            for (Map.Entry<String, JsonNode> e : v.properties()) {
                if (e.getKey().indexOf(INVALID_UTF8) >= 0 || containsInvalid(e.getValue())) return true;
            }
            for (JsonNode child : v) {
                if (v.isArray() && containsInvalid(child)) return true;
            }
        }
        return false;
    }

    private static String around(String s, int at) {
        return s.substring(Math.max(0, at - 15), Math.min(s.length(), at + 15));
    }

    private static String describe(JsonNode v) {
        String shown = v.toString();
        if (shown.length() > 40) shown = shown.substring(0, 37) + "...";
        return switch (v.getNodeType()) {
            case NUMBER -> "a number (" + shown + ")";
            case BOOLEAN -> "a boolean (" + shown + ")";
            case ARRAY -> "a list (" + shown + ")";
            case OBJECT -> "an object (" + shown + ")";
            case STRING -> "a string (" + shown + ")";
            case NULL -> "null";
            default -> v.getNodeType().toString().toLowerCase(Locale.ROOT);
        };
    }
}
