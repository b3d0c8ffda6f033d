package dev.finadvisor.app;

import dev.finadvisor.domain.config.ConfigLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The {@code --config FILE} and repeatable {@code --set KEY=VALUE} options every configurable job shares. */
public final class ConfigOptions {
    @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration file; keys not given keep their defaults.")
    Path file;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one key, e.g. --set training.learning_rate=1e-4 for train, --set server.port=9000 for serve (repeatable; applied after --config).")
    List<String> overrides = new ArrayList<>();

    /** Loads the job's configuration: defaults resource, then the file, then the overrides. */
    public <T> ConfigLoader.Loaded<T> load(Class<T> type, String defaultsResource) {
        return load(type, defaultsResource, null);
    }

    /** {@link #load(Class, String)} with {@code fallback} (may be null) as the file when no {@code --config} was given. */
    public <T> ConfigLoader.Loaded<T> load(Class<T> type, String defaultsResource, Path fallback) {
        return new ConfigLoader().load(type, defaultsResource, file != null ? file : fallback, overrides);
    }
}
