package dev.finadvisor.domain.runs;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.core.JsonProcessingException;
import dev.finadvisor.domain.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Reads the model registry (default {@code ./registry}, layout in {@link RegistryLayout}) and
 * resolves {@code registry:NAME@ALIAS} / {@code registry:NAME:VERSION} to an adapter folder. Needs
 * nothing but the files: the inference pipeline uses it without the training pipeline.
 */
public final class Registry {
    private final RegistryLayout layout;

    public Registry(Path root) {
        this.layout = new RegistryLayout(root);
    }

    public RegistryLayout layout() {
        return layout;
    }

    /**
     * The adapter folder an argument names: a {@code registry:} reference resolved against
     * {@code registryRoot}, otherwise the argument itself as a path.
     */
    public static Path adapterFolder(String argument, Path registryRoot) {
        if (RegistryRef.isRegistryRef(argument)) return new Registry(registryRoot).resolve(argument).adapterDir();
        return Path.of(argument);
    }

    /** Model names with at least one version folder, sorted. */
    public List<String> names() {
        Path root = layout.root();
        if (!Files.isDirectory(root)) return List.of();
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> Files.isDirectory(p.resolve(RegistryLayout.VERSIONS)))
                    .map(p -> p.getFileName().toString())
                    .filter(n -> RegistryRef.NAME.matcher(n).matches())
                    .sorted().toList();
        } catch (IOException e) {
            throw new UserError(root + ": cannot list: " + e.getMessage(), e);
        }
    }

    /** Version numbers of a model, ascending (staging folders of pushes in progress are not versions). */
    public List<Integer> versionNumbers(String name) {
        requireModel(name);
        try (Stream<Path> s = Files.list(layout.versions(name))) {
            return s.map(p -> p.getFileName().toString())
                    .filter(n -> n.matches("[1-9][0-9]{0,8}"))
                    .map(Integer::parseInt).sorted().toList();
        } catch (IOException e) {
            throw new UserError(layout.versions(name) + ": cannot list: " + e.getMessage(), e);
        }
    }

    public List<ModelVersion> versions(String name) {
        List<ModelVersion> out = new ArrayList<>();
        for (int v : versionNumbers(name)) out.add(version(name, v));
        return out;
    }

    /** One version's model.json; a missing version names the ones there are. */
    public ModelVersion version(String name, int version) {
        requireModel(name);
        Path dir = layout.version(name, version);
        if (!Files.isDirectory(dir)) {
            throw new UserError("model '" + name + "' has no version " + version + " in " + layout.root()
                    + " (versions: " + joined(versionNumbers(name)) + ")");
        }
        Path file = layout.modelJson(name, version);
        ModelVersion m = RunJson.read(file, ModelVersion.class);
        if (m == null) throw new UserError(file + ": expected a JSON object, found null");
        if (m.version() != version) throw new UserError(file + ": field 'version' is " + m.version() + " but the folder is version " + version);
        if (!name.equals(m.name())) throw new UserError(file + ": field 'name' is '" + m.name() + "' but the folder is model '" + name + "'");
        if (m.baseModel() == null) throw new UserError(file + ": missing field 'base_model'");
        return m;
    }

    /** Alias → version for one model (empty when no alias was ever set). */
    public Map<String, Integer> aliases(String name) {
        requireModel(name);
        Path file = layout.aliases(name);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return Map.of();
        } catch (IOException e) {
            throw new UserError(file + ": cannot read: " + e.getMessage(), e);
        }
        Map<String, Integer> raw;
        try {
            raw = RunJson.MAPPER.readValue(bytes, new TypeReference<LinkedHashMap<String, Integer>>() {});
        } catch (JsonProcessingException e) {
            throw new UserError(RunJson.describe(file.toString(), e) + " (expected {\"ALIAS\": VERSION, ...})", e);
        } catch (IOException e) {
            throw new UserError(file + ": cannot read: " + e.getMessage(), e);
        }
        if (raw == null) throw new UserError(file + ": expected {\"ALIAS\": VERSION, ...}, found null");
        Map<String, Integer> out = new TreeMap<>();
        for (Map.Entry<String, Integer> e : raw.entrySet()) {
            if (e.getValue() == null || e.getValue() < 1) {
                throw new UserError(file + ": alias '" + e.getKey() + "' points to " + e.getValue() + ", expected a version number >= 1");
            }
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }

    public RegisteredAdapter resolve(String reference) {
        return resolve(RegistryRef.parse(reference));
    }

    /** The adapter a pinned reference names; a bare name is an error (which version would it be?). */
    public RegisteredAdapter resolve(RegistryRef ref) {
        int version;
        if (ref.version() != null) {
            version = ref.version();
        } else if (ref.alias() != null) {
            Map<String, Integer> aliases = aliases(ref.name());
            Integer v = aliases.get(ref.alias());
            if (v == null) {
                throw new UserError("model '" + ref.name() + "' has no alias '" + ref.alias() + "' in " + layout.root()
                        + " (aliases: " + (aliases.isEmpty() ? "none" : aliases.entrySet().stream()
                        .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", ")))
                        + "); set it with: finadvisor registry promote " + ref.name() + ":VERSION --alias " + ref.alias());
            }
            version = v;
            if (!Files.isDirectory(layout.version(ref.name(), version))) {
                throw new UserError(layout.aliases(ref.name()) + ": alias '" + ref.alias() + "' points to version " + version
                        + ", which does not exist (versions: " + joined(versionNumbers(ref.name())) + ")");
            }
        } else {
            throw new UserError("'" + ref + "' names no version: use " + ref + "@ALIAS or " + ref + ":VERSION");
        }
        ModelVersion model = version(ref.name(), version);
        Path adapter = layout.adapter(ref.name(), version);
        if (!Files.isDirectory(adapter)) throw new UserError(adapter + ": missing (the registry version has no adapter folder)");
        return new RegisteredAdapter(ref, adapter.toAbsolutePath().normalize(), model);
    }

    private void requireModel(String name) {
        RegistryRef.checkName(name);
        if (!Files.isDirectory(layout.versions(name))) {
            List<String> names = names();
            throw new UserError("no model '" + name + "' in registry " + layout.root()
                    + " (models: " + (names.isEmpty() ? "none; register one with: finadvisor registry push RUN --name " + name : String.join(", ", names)) + ")");
        }
    }

    private static String joined(List<Integer> versions) {
        return versions.isEmpty() ? "none" : versions.stream().map(String::valueOf).collect(Collectors.joining(", "));
    }
}
