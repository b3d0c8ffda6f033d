package dev.finadvisor.domain.runs;

import java.nio.file.Path;

/**
 * The registry folder (default {@code ./registry}):
 * <pre>
 * NAME/aliases.json               {"production": 3, "staging": 4}
 * NAME/versions/N/model.json      {@link ModelVersion}
 * NAME/versions/N/adapter/        the adapter (PEFT format), copied from the run
 * NAME/.lock                      held while a version number is taken or an alias moves
 * NAME/versions/.staging-*        a version being copied (invisible to readers; renamed into place)
 * </pre>
 * A version folder appears by one atomic rename, complete; aliases.json is replaced atomically.
 */
public record RegistryLayout(Path root) {
    public static final Path DEFAULT_DIR = Path.of("registry");
    public static final String ALIASES = "aliases.json";
    public static final String VERSIONS = "versions";
    public static final String MODEL = "model.json";
    public static final String ADAPTER = "adapter";
    public static final String LOCK = ".lock";

    public Path model(String name) {
        return root.resolve(name);
    }

    public Path aliases(String name) {
        return model(name).resolve(ALIASES);
    }

    public Path lock(String name) {
        return model(name).resolve(LOCK);
    }

    public Path versions(String name) {
        return model(name).resolve(VERSIONS);
    }

    public Path version(String name, int version) {
        return versions(name).resolve(Integer.toString(version));
    }

    public Path modelJson(String name, int version) {
        return version(name, version).resolve(MODEL);
    }

    public Path adapter(String name, int version) {
        return version(name, version).resolve(ADAPTER);
    }
}
