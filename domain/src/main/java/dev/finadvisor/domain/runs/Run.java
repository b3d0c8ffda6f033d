package dev.finadvisor.domain.runs;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A run as read from its folder: {@code run.json}, the metrics, and the status as it really is
 * (a run whose file says "running" but whose process is gone reads as {@link RunStatus#KILLED},
 * with {@code statusNote} saying why).
 *
 * @param warnings things read around rather than failed on, e.g. a last metrics line cut short by a kill
 * @param endedAt  run.json's end, or for a run found dead its last sign of life (heartbeat, metrics); null while it runs
 */
public record Run(RunLayout layout, RunInfo info, RunStatus status, String statusNote, List<MetricPoint> metrics, List<String> warnings,
                  Instant endedAt) {
    public Run {
        metrics = List.copyOf(metrics);
        warnings = List.copyOf(warnings);
    }

    public String id() {
        return info.id();
    }

    /** From the start to the end, or to {@code now} while the run goes on. */
    public Duration duration(Instant now) {
        return Duration.between(info.startedAt(), endedAt != null ? endedAt : now);
    }

    /** The last logged value of {@code metric}, falling back to the final metrics in run.json. */
    public Optional<Double> last(String metric) {
        for (int i = metrics.size() - 1; i >= 0; i--) {
            Double v = metrics.get(i).get(metric);
            if (v != null) return Optional.of(v);
        }
        return Optional.ofNullable(info.finalMetrics().get(metric));
    }

    /** The steps at which {@code metric} was logged and its values there. */
    public Series series(String metric) {
        List<Double> steps = new ArrayList<>();
        List<Double> values = new ArrayList<>();
        for (MetricPoint p : metrics) {
            Double v = p.get(metric);
            if (v != null) {
                steps.add((double) p.step());
                values.add(v);
            }
        }
        return new Series(metric, steps, values);
    }

    /** One metric over steps. */
    public record Series(String metric, List<Double> steps, List<Double> values) {
        public boolean isEmpty() {
            return steps.isEmpty();
        }
    }
}
