package dev.finadvisor.domain.runs;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The content of a run's {@code run.json}: identity (base model, dataset, code commit, machine),
 * status and timings, final numbers and artifacts. Written by the tracker, rewritten atomically
 * on every change; unknown fields are ignored so newer writers stay readable.
 *
 * @param format        layout version of the run folder ({@link RunLayout#FORMAT})
 * @param id            the run folder's name
 * @param name          the name the run was started with (the id without its timestamp)
 * @param status        as written; {@link Run#status()} corrects a dead "running" run to killed
 * @param error         why the run failed or was killed, when it did
 * @param finalMetrics  last value of each logged metric plus what the trainer reported at the end
 * @param artifacts     named files the run produced, relative to the run folder
 */
public record RunInfo(
        int format,
        String id,
        String name,
        RunStatus status,
        Instant startedAt,
        Instant endedAt,
        FileRef baseModel,
        FileRef dataset,
        String gitCommit,
        Boolean gitDirty,
        MachineFacts machine,
        ProcessRef process,
        String error,
        Map<String, Double> finalMetrics,
        Map<String, FileRef> artifacts) {

    public RunInfo {
        finalMetrics = finalMetrics == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(finalMetrics));
        artifacts = artifacts == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(artifacts));
    }

    /** Wall time from start to end (or to {@code now} while running). */
    public Duration duration(Instant now) {
        if (startedAt == null) return Duration.ZERO;
        return Duration.between(startedAt, endedAt != null ? endedAt : now);
    }

    public RunInfo withStatus(RunStatus newStatus, Instant ended, String why) {
        return new RunInfo(format, id, name, newStatus, startedAt, ended, baseModel, dataset, gitCommit, gitDirty,
                machine, process, why, finalMetrics, artifacts);
    }

    /** The run continuing under another process: running again, its end and error cleared. */
    public RunInfo resumedBy(ProcessRef newProcess) {
        return new RunInfo(format, id, name, RunStatus.RUNNING, startedAt, null, baseModel, dataset, gitCommit, gitDirty,
                machine, newProcess, null, finalMetrics, artifacts);
    }

    public RunInfo withFinalMetrics(Map<String, Double> metrics) {
        return new RunInfo(format, id, name, status, startedAt, endedAt, baseModel, dataset, gitCommit, gitDirty,
                machine, process, error, metrics, artifacts);
    }

    public RunInfo withArtifact(String artifactName, FileRef ref) {
        Map<String, FileRef> more = new LinkedHashMap<>(artifacts);
        more.put(artifactName, ref);
        return new RunInfo(format, id, name, status, startedAt, endedAt, baseModel, dataset, gitCommit, gitDirty,
                machine, process, error, finalMetrics, more);
    }
}
