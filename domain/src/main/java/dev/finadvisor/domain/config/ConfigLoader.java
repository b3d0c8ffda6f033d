package dev.finadvisor.domain.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Reads a job's configuration: built-in defaults (a YAML resource), then the user's YAML file,
 * then {@code --set a.b=value} overrides, bound to a record with every key checked. Every error
 * names the key, the place it came from (the file, the override, or the defaults) and what is allowed.
 */
public final class ConfigLoader {
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*");
    private static final String DEFAULTS = "built-in defaults";

    /** The bound configuration and the merged tree it came from (for writing the resolved config beside a run). */
    public record Loaded<T>(T value, ObjectNode tree) {}

    private final ObjectMapper yaml;

    public ConfigLoader() {
        yaml = new ObjectMapper(new YAMLFactory())
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
    }

    /** Loads with defaults from the classpath resource {@code defaultsResource} (may be null). */
    public <T> Loaded<T> load(Class<T> type, String defaultsResource, Path file, List<String> overrides) {
        Map<String, String> origins = new LinkedHashMap<>();
        ObjectNode tree = JsonNodeFactory.instance.objectNode();
        ObjectNode defaults = defaultsResource == null ? JsonNodeFactory.instance.objectNode() : readResource(type, defaultsResource);
        merge(tree, defaults, "", DEFAULTS, origins);
        if (file != null) {
            merge(tree, readFile(file), "", file.toString(), origins);
        }
        for (String override : overrides == null ? List.<String>of() : overrides) {
            applyOverride(tree, override, origins);
        }
        List<String> problems = new ArrayList<>();
        Set<String> badKeys = new HashSet<>();
        T value = bind(type, tree, defaults, origins, problems, badKeys);
        if (value instanceof Validated v) {
            Problems found = new Problems();
            v.validate(found);
            for (Problems.Problem p : found.list()) {
                if (!badKeys.contains(p.key())) problems.add(origin(origins, p.key()) + ": '" + p.key() + "' " + p.message());
            }
        }
        if (!problems.isEmpty()) throw new ConfigException(problems);
        return new Loaded<>(value, tree);
    }

    private ObjectNode readResource(Class<?> anchor, String resource) {
        try (InputStream in = anchor.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("missing built-in defaults resource " + resource);
            return asObject(yaml.readTree(in), resource);
        } catch (IOException e) {
            throw new IllegalStateException("unreadable built-in defaults " + resource, e);
        }
    }

    private ObjectNode readFile(Path file) {
        try {
            return asObject(yaml.readTree(Files.readAllBytes(file)), file.toString());
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such configuration file");
        } catch (JsonProcessingException e) {
            var loc = e.getLocation();
            String where = loc == null ? "" : " line " + loc.getLineNr() + " column " + loc.getColumnNr();
            throw new ConfigException(file + where + ": not valid YAML: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage());
        }
    }

    private static ObjectNode asObject(JsonNode node, String source) {
        if (node == null || node.isMissingNode() || node.isNull()) return JsonNodeFactory.instance.objectNode();
        if (!node.isObject()) throw new ConfigException(source + ": the top level must be a mapping of keys to values");
        return (ObjectNode) node;
    }

    /** Deep-merges {@code from} into {@code into}: mappings merge key by key, anything else replaces. */
    private static void merge(ObjectNode into, ObjectNode from, String prefix, String source, Map<String, String> origins) {
        from.fields().forEachRemaining(e -> {
            String key = prefix + e.getKey();
            JsonNode existing = into.get(e.getKey());
            if (existing instanceof ObjectNode target && e.getValue() instanceof ObjectNode sub) {
                merge(target, sub, key + ".", source, origins);
            } else {
                into.set(e.getKey(), e.getValue().deepCopy());
                origins.keySet().removeIf(k -> k.startsWith(key + "."));
                origins.put(key, source);
            }
        });
    }

    private void applyOverride(ObjectNode tree, String override, Map<String, String> origins) {
        int eq = override.indexOf('=');
        String source = "--set " + override;
        if (eq <= 0) throw new ConfigException(source + ": expected KEY=VALUE, e.g. --set training.learning_rate=1e-4");
        String key = override.substring(0, eq).trim();
        String raw = override.substring(eq + 1);
        if (!KEY.matcher(key).matches()) {
            throw new ConfigException(source + ": '" + key + "' is not a dotted key such as lora.r");
        }
        JsonNode value;
        try {
            value = raw.isBlank() ? TextNode.valueOf(raw) : yaml.readTree(raw);
        } catch (JsonProcessingException e) {
            value = TextNode.valueOf(raw);
        }
        String[] parts = key.split("\\.");
        ObjectNode node = tree;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = node.get(parts[i]);
            if (child == null || child.isNull()) {
                child = node.putObject(parts[i]);
            } else if (!child.isObject()) {
                String section = String.join(".", List.of(parts).subList(0, i + 1));
                throw new ConfigException(source + ": '" + section + "' is a value, not a section with keys");
            }
            node = (ObjectNode) child;
        }
        ObjectNode wrapper = JsonNodeFactory.instance.objectNode();
        wrapper.set(parts[parts.length - 1], value);
        String prefix = parts.length == 1 ? "" : key.substring(0, key.lastIndexOf('.') + 1);
        merge(node, wrapper, prefix, source, origins);
    }

    /**
     * Binds the tree, collecting every key that does not bind: each bad key is reported, set back to its default (or
     * taken out) in a copy of the tree, and binding is tried again, so one run names all of them. Returns the value
     * bound with the bad keys replaced (to validate the rest; {@code badKeys} lists them), or null when binding
     * could not go on.
     */
    private <T> T bind(Class<T> type, ObjectNode tree, ObjectNode defaults, Map<String, String> origins,
                       List<String> problems, Set<String> badKeys) {
        ObjectNode work = tree.deepCopy();
        while (true) {
            try {
                return yaml.treeToValue(work, type);
            } catch (JsonProcessingException e) {
                String key = e instanceof JsonMappingException m ? path(m, lastName(e)) : "";
                boolean first = badKeys.add(key);
                String problem = problem(e, key, work, origins);
                // Each round changes the tree (a value set back to its default, or a node taken out), else binding stops.
                boolean changed = e instanceof JsonMappingException m && reset(work, defaults, m.getPath());
                if ((first || changed) && !problems.contains(problem)) problems.add(problem); // not a second "missing" once taken out
                if (!changed) return null;
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
                return null;
            }
        }
    }

    private static String lastName(JsonProcessingException e) {
        return e instanceof UnrecognizedPropertyException u ? u.getPropertyName() : null;
    }

    private static String problem(JsonProcessingException e, String key, ObjectNode tree, Map<String, String> origins) {
        if (e instanceof UnrecognizedPropertyException u) {
            TreeSet<String> known = new TreeSet<>();
            for (Object id : u.getKnownPropertyIds()) known.add(String.valueOf(id));
            String hint = Suggest.nearest(u.getPropertyName(), known).map(s -> " (did you mean '" + s + "'?)").orElse("");
            String parent = key.contains(".") ? " under '" + key.substring(0, key.lastIndexOf('.')) + "'" : "";
            return origin(origins, key) + ": unknown key '" + key + "'" + hint
                    + "; known keys" + parent + ": " + String.join(", ", known);
        }
        if (e instanceof InvalidFormatException f) {
            return origin(origins, key) + ": '" + key + "' is " + describe(f.getValue())
                    + ", expected " + typeName(f.getTargetType());
        }
        if (e instanceof MismatchedInputException m) {
            return origin(origins, key) + ": '" + key + "' is " + describe(valueAt(tree, key))
                    + ", expected " + typeName(m.getTargetType());
        }
        return origin(origins, key) + ": '" + key + "': " + e.getOriginalMessage();
    }

    /**
     * Sets the node at {@code path} in {@code tree} back to its value in {@code defaults}, or takes it out when the
     * defaults have none; false when there is nothing there to change.
     */
    private static boolean reset(ObjectNode tree, ObjectNode defaults, List<JsonMappingException.Reference> path) {
        if (path.isEmpty()) return false;
        JsonNode node = at(tree, path.subList(0, path.size() - 1));
        JsonNode fallback = at(defaults, path);
        JsonMappingException.Reference last = path.get(path.size() - 1);
        if (node instanceof ObjectNode o && last.getFieldName() != null) {
            if (fallback != null) return !fallback.equals(o.replace(last.getFieldName(), fallback.deepCopy()));
            return o.remove(last.getFieldName()) != null;
        }
        if (node instanceof ArrayNode a && last.getFieldName() == null && last.getIndex() < a.size()) {
            a.remove(last.getIndex());
            return true;
        }
        return false;
    }

    private static JsonNode at(JsonNode node, List<JsonMappingException.Reference> path) {
        for (JsonMappingException.Reference r : path) {
            if (node == null) return null;
            node = r.getFieldName() != null ? node.get(r.getFieldName()) : node.get(r.getIndex());
        }
        return node;
    }

    private static String path(JsonMappingException e, String last) {
        List<String> parts = new ArrayList<>();
        for (JsonMappingException.Reference r : e.getPath()) {
            parts.add(r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]");
        }
        if (last != null && (parts.isEmpty() || !Objects.equals(parts.get(parts.size() - 1), last))) parts.add(last);
        return String.join(".", parts).replace(".[", "[");
    }

    private static Object valueAt(JsonNode tree, String key) {
        JsonNode node = tree;
        for (String part : key.replaceAll("\\[\\d+]", "").split("\\.")) {
            if (node == null) return null;
            node = node.get(part);
        }
        return node;
    }

    /** Where the value at {@code key} came from: itself, else something set below it, else its nearest ancestor. */
    private static String origin(Map<String, String> origins, String key) {
        String k = key.replaceAll("\\[\\d+]", "");
        if (origins.containsKey(k)) return origins.get(k);
        for (Map.Entry<String, String> e : origins.entrySet()) {
            if (e.getKey().startsWith(k + ".")) return e.getValue();
        }
        while (k.contains(".")) {
            k = k.substring(0, k.lastIndexOf('.'));
            if (origins.containsKey(k)) return origins.get(k);
        }
        return "configuration";
    }

    private static String describe(Object value) {
        if (value == null) return "missing";
        if (value instanceof JsonNode n) {
            if (n.isNull()) return "null";
            if (n.isObject()) return "a section with keys";
            if (n.isArray()) return "a list";
            return "'" + n.asText() + "'";
        }
        return "'" + value + "'";
    }

    private static String typeName(Class<?> type) {
        if (type == null) return "another type";
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class) return "a whole number";
        if (type == double.class || type == Double.class || type == float.class || type == Float.class) return "a number";
        if (type == boolean.class || type == Boolean.class) return "true or false";
        if (type == String.class) return "a text value";
        if (type.isEnum()) {
            List<String> names = new ArrayList<>();
            for (Object c : type.getEnumConstants()) names.add(c.toString());
            return "one of " + names;
        }
        if (List.class.isAssignableFrom(type) || type.isArray()) return "a list";
        if (type.isRecord() || Map.class.isAssignableFrom(type)) return "a section with keys";
        return "a " + type.getSimpleName();
    }
}
