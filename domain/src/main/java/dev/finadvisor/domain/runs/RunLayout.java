package dev.finadvisor.domain.runs;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The files of one run folder ({@code runs/RUN_ID/}), readable by any JSON/YAML tool:
 * <pre>
 * config.yaml     the resolved configuration the run trained with
 * run.json        identity, status (running|finished|failed|killed), timings, final metrics, artifacts
 * metrics.jsonl   one JSON object per logged step (step, epoch, loss, eval_loss, perplexity, ...)
 * heartbeat       touched every few seconds while the run lives (its modification time is what counts)
 * train.log       the run's log lines
 * checkpoints/    resumable training state
 * adapter/        the trained adapter in PEFT format
 * report/         report.html (self-contained) and the PNG charts
 * </pre>
 */
public record RunLayout(Path dir) {
    /** Version of this layout, written into run.json. */
    public static final int FORMAT = 1;
    public static final Path DEFAULT_RUNS_DIR = Path.of("runs");
    /** How often a live run touches its heartbeat file. */
    public static final Duration HEARTBEAT_INTERVAL = Duration.ofSeconds(10);
    /** A running run on another host whose heartbeat is older than this reads as killed. */
    public static final Duration HEARTBEAT_STALE = Duration.ofMinutes(2);

    public static final String CONFIG = "config.yaml";
    public static final String RUN = "run.json";
    public static final String METRICS = "metrics.jsonl";
    public static final String HEARTBEAT = "heartbeat";
    public static final String LOG = "train.log";
    public static final String CHECKPOINTS = "checkpoints";
    public static final String ADAPTER = "adapter";
    public static final String REPORT = "report";
    public static final String REPORT_HTML = "report.html";
    /** The samples a run held out for evaluation (JSON Lines), as training read them: what {@code eval --data} takes. */
    public static final String VALIDATION = "validation.jsonl";

    public String id() {
        return dir.getFileName().toString();
    }

    public Path config() {
        return dir.resolve(CONFIG);
    }

    public Path runJson() {
        return dir.resolve(RUN);
    }

    public Path metrics() {
        return dir.resolve(METRICS);
    }

    public Path heartbeat() {
        return dir.resolve(HEARTBEAT);
    }

    public Path log() {
        return dir.resolve(LOG);
    }

    public Path validation() {
        return dir.resolve(VALIDATION);
    }

    public Path checkpoints() {
        return dir.resolve(CHECKPOINTS);
    }

    public Path adapter() {
        return dir.resolve(ADAPTER);
    }

    public Path reportDir() {
        return dir.resolve(REPORT);
    }

    public Path reportHtml() {
        return reportDir().resolve(REPORT_HTML);
    }
}
