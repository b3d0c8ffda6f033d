package dev.finadvisor.domain.runs;

import java.nio.file.Path;
import java.util.Map;

/** A registry reference resolved: the adapter folder to load, the base model it needs, its metrics. */
public record RegisteredAdapter(RegistryRef ref, Path adapterDir, ModelVersion model) {
    public FileRef baseModel() {
        return model.baseModel();
    }

    public Map<String, Double> metrics() {
        return model.metrics();
    }

    public int version() {
        return model.version();
    }
}
