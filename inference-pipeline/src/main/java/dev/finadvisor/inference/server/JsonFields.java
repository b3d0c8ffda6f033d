package dev.finadvisor.inference.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.Collection;
import java.util.Iterator;
import dev.finadvisor.inference.Durations;
import dev.finadvisor.inference.QuestionCleaner;

/** Reads request JSON field by field, so every error names the field (e.g. {@code history[1].answer}). */
final class JsonFields {
    private JsonFields() {}

    static JsonNode parseObject(ObjectMapper json, byte[] body) {
        if (body.length == 0) throw ApiException.invalid("body", "is empty; send a JSON object");
        JsonNode root;
        try {
            root = json.readTree(body);
        } catch (JsonProcessingException e) {
            var loc = e.getLocation();
            String where = loc == null ? "" : " at line " + loc.getLineNr() + " column " + loc.getColumnNr();
            throw ApiException.invalid("body", "is not valid JSON" + where + ": " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw ApiException.invalid("body", "could not be read: " + e.getMessage());
        }
        if (root == null || root.isMissingNode()) throw ApiException.invalid("body", "is empty; send a JSON object");
        if (!root.isObject()) throw ApiException.invalid("body", "must be a JSON object, got " + kind(root));
        return root;
    }

    static void rejectUnknown(JsonNode object, String prefix, Collection<String> known) {
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!known.contains(name)) {
                throw ApiException.invalid(prefix + name, "is not a known field; known fields: " + String.join(", ", known));
            }
        }
    }

    static boolean absent(JsonNode node) {
        return node == null || node.isNull() || node.isMissingNode();
    }

    static String requiredText(JsonNode parent, String name, String path, int maxChars) {
        JsonNode node = parent.get(name);
        if (absent(node)) throw ApiException.invalid(path, "is missing");
        String s = text(node, path, maxChars);
        requireVisible(s, path);
        return s;
    }

    /** Text with nothing left once cleaned (blank, or only control and invisible characters such as U+200B) is empty. */
    static void requireVisible(String s, String path) {
        if (s.isBlank()) throw ApiException.invalid(path, "is empty");
        if (QuestionCleaner.clean(s).isEmpty()) {
            throw ApiException.invalid(path, "is empty once control and invisible characters (e.g. U+0000, U+200B, U+FEFF, U+00AD) are removed");
        }
    }

    static String text(JsonNode node, String path, int maxChars) {
        if (!node.isTextual()) throw ApiException.invalid(path, "must be a string, got " + kind(node));
        String s = node.textValue();
        if (s.length() > maxChars) {
            throw ApiException.invalid(path, "is " + s.length() + " characters long; the limit is " + maxChars);
        }
        return s;
    }

    static Integer optionalInt(JsonNode parent, String name, String path, int min, int max, String maxWhat) {
        JsonNode node = parent.get(name);
        if (absent(node)) return null;
        if (!node.isIntegralNumber()) throw ApiException.invalid(path, "must be a whole number, got " + kind(node));
        if (!node.canConvertToInt()) {
            throw ApiException.invalid(path, "is " + node.asText() + "; it must be between " + min + " and " + max);
        }
        int v = node.intValue();
        if (v < min) throw ApiException.invalid(path, "is " + v + "; it must be at least " + min);
        if (v > max) throw ApiException.invalid(path, "is " + v + "; " + maxWhat + " is " + max);
        return v;
    }

    static Long optionalLong(JsonNode parent, String name, String path) {
        JsonNode node = parent.get(name);
        if (absent(node)) return null;
        if (!node.isIntegralNumber()) throw ApiException.invalid(path, "must be a whole number, got " + kind(node));
        if (!node.canConvertToLong()) throw ApiException.invalid(path, "is " + node.asText() + "; it must fit in 64 bits");
        return node.longValue();
    }

    static Double optionalNumber(JsonNode parent, String name, String path, double min, double max) {
        JsonNode node = parent.get(name);
        if (absent(node)) return null;
        if (!node.isNumber()) throw ApiException.invalid(path, "must be a number, got " + kind(node));
        double v = node.doubleValue();
        if (!(v >= min && v <= max)) throw ApiException.invalid(path, "is " + node.asText() + "; it must be between " + min + " and " + max);
        return v;
    }

    static Boolean optionalBoolean(JsonNode parent, String name, String path) {
        JsonNode node = parent.get(name);
        if (absent(node)) return null;
        if (!node.isBoolean()) throw ApiException.invalid(path, "must be true or false, got " + kind(node));
        return node.booleanValue();
    }

    static Duration optionalWindow(JsonNode parent, String name, String path) {
        JsonNode node = parent.get(name);
        if (absent(node)) return null;
        String s = text(node, path, 40);
        try {
            return Durations.parse(s);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(path, e.getMessage());
        }
    }

    static String kind(JsonNode node) {
        if (node.isTextual()) return "a string";
        if (node.isIntegralNumber()) return "the whole number " + node.asText();
        if (node.isNumber()) return "the number " + node.asText();
        if (node.isBoolean()) return node.asText();
        if (node.isArray()) return "an array";
        if (node.isObject()) return "an object";
        if (node.isNull()) return "null";
        return node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
    }
}
