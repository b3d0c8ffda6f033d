package dev.finadvisor.domain.runs;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The content of a registry version's {@code model.json}: what was registered, from which run.
 *
 * @param baseModel the checkpoint the adapter was trained on (absolute path and SHA-256)
 * @param adapter   the registered adapter folder, relative to the version folder, and its SHA-256
 * @param runDir    absolute path of the run folder at push time (the run link)
 * @param metrics   the run's final metrics
 */
public record ModelVersion(
        int format,
        String name,
        int version,
        Instant createdAt,
        FileRef adapter,
        FileRef baseModel,
        FileRef dataset,
        String runId,
        String runDir,
        String gitCommit,
        Map<String, Double> metrics) {

    public ModelVersion {
        metrics = metrics == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
    }
}
