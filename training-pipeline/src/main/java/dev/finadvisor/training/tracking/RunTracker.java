package dev.finadvisor.training.tracking;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.runs.AtomicFiles;
import dev.finadvisor.domain.runs.FileRef;
import dev.finadvisor.domain.runs.MetricPoint;
import dev.finadvisor.domain.runs.ProcessRef;
import dev.finadvisor.domain.runs.RegistryRef;
import dev.finadvisor.domain.runs.Run;
import dev.finadvisor.domain.runs.RunInfo;
import dev.finadvisor.domain.runs.RunJson;
import dev.finadvisor.domain.runs.RunLayout;
import dev.finadvisor.domain.runs.RunStatus;
import dev.finadvisor.domain.runs.RunStore;
import dev.finadvisor.domain.runs.Sha256;
import dev.finadvisor.domain.util.LockFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records one training run in its own folder under the runs folder (layout in {@link RunLayout}):
 * identity at start, metrics per step, artifacts, and the end (finished, failed, or killed when the
 * JVM exits first). Each run owns its folder, created by one atomic rename, so runs started at the
 * same moment never share or corrupt files. Use it with try-with-resources: closing a run that
 * neither finished nor failed marks it failed.
 *
 * <pre>{@code
 * try (RunTracker run = RunTracker.start(new RunSpec(runsDir, "fin-advisor", loaded.tree(), base, data, "PyTorch 2.7.1", "cpu()"))) {
 *     for (...) run.log(step, Map.of("loss", loss, "learning_rate", lr, "tokens_per_s", tps));
 *     adapter.save(run.adapterDir());
 *     run.finish(Map.of("eval_loss", evalLoss));
 * }
 * }</pre>
 */
public final class RunTracker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RunTracker.class);
    private static final DateTimeFormatter ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private final RunLayout layout;
    private final Clock clock;
    private final FileChannel metrics;
    private final ScheduledExecutorService heartbeat;
    private final Thread shutdownHook;
    private final boolean report;
    private RunInfo info;
    private long lastStep = -1;
    private volatile Runnable windDown;

    private RunTracker(RunLayout layout, RunInfo info, Clock clock, boolean report) throws IOException {
        this.layout = layout;
        this.report = report;
        this.info = info;
        this.clock = clock;
        this.metrics = FileChannel.open(layout.metrics(), StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "run-heartbeat-" + info.id());
            t.setDaemon(true);
            return t;
        });
        long every = RunLayout.HEARTBEAT_INTERVAL.toMillis();
        heartbeat.scheduleAtFixedRate(this::beat, every, every, TimeUnit.MILLISECONDS);
        this.shutdownHook = new Thread(this::jvmExiting, "run-shutdown-" + info.id());
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Starts a run: hashes the base model and dataset, records the machine and the commit, writes run.json and config.yaml. */
    public static RunTracker start(RunSpec spec) {
        return start(spec, Clock.systemUTC());
    }

    static RunTracker start(RunSpec spec, Clock clock) {
        String name = spec.name() == null || spec.name().isBlank() ? "run" : spec.name();
        if (!RegistryRef.NAME.matcher(name).matches()) {
            throw new UserError("run name '" + name + "' is not allowed: use letters, digits, '.', '_', '-'");
        }
        FileRef base = spec.baseModel() == null ? null : identity(spec.baseModel(), "base model");
        FileRef data = spec.dataset() == null ? null : identity(spec.dataset(), "dataset");
        GitCommit git = GitCommit.of(spec.projectDir() == null ? Path.of("") : spec.projectDir());
        Instant now = clock.instant();
        String stem = ID_TIME.format(now) + "-" + name;
        RunInfo info = new RunInfo(RunLayout.FORMAT, stem, name, RunStatus.RUNNING, now, null, base, data,
                git.commit(), git.dirty(), Machine.facts(spec.engine(), spec.device()), ProcessRef.current(),
                null, Map.of(), Map.of());
        // Everything is written in a hidden staging folder, then renamed into place in one step:
        // readers never see a run folder without its run.json, and two runs never get one id.
        Path staging = spec.runsDir().resolve(".starting-" + UUID.randomUUID());
        try {
            Files.createDirectories(spec.runsDir());
            Files.createDirectory(staging);
            RunLayout staged = new RunLayout(staging);
            Files.write(staged.config(), configYaml(spec.config()));
            Files.createDirectory(staged.checkpoints());
            Files.createFile(staged.metrics());
            Files.createFile(staged.heartbeat());
            Files.writeString(staged.log(), line(now, "started run " + stem + " (pid " + info.process().pid() + " on " + info.process().host() + ")"));
            for (int attempt = 1; ; attempt++) {
                String id = attempt == 1 ? stem : stem + "-" + attempt;
                info = new RunInfo(info.format(), id, name, info.status(), info.startedAt(), null, base, data, info.gitCommit(),
                        info.gitDirty(), info.machine(), info.process(), null, Map.of(), Map.of());
                AtomicFiles.write(staged.runJson(), RunJson.pretty(info));
                Path target = spec.runsDir().resolve(id);
                if (Files.exists(target)) continue;
                try {
                    AtomicFiles.move(staging, target);
                } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                    continue; // another run took this id between the check and the rename
                } catch (FileSystemException e) {
                    if (Files.exists(target)) continue;
                    throw e;
                }
                RunLayout layout = new RunLayout(target);
                log.info("run {} started in {}", id, target);
                return new RunTracker(layout, info, clock, spec.report());
            }
        } catch (IOException e) {
            RegistryWriter.deleteTree(staging); // readers skip hidden folders; this only tidies up
            throw new UncheckedIOException("cannot create a run in " + spec.runsDir() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Continues a run that ended without finishing (killed, or failed) from its checkpoint at
     * {@code fromStep}: metrics logged after that step are dropped, since training repeats them, and
     * the run is running again under this process. Refused while the run's process lives, and for a
     * finished run.
     */
    public static RunTracker resume(Path runDir, long fromStep) {
        return resume(runDir, fromStep, true);
    }

    /** {@link #resume(Path, long)}, choosing whether finishing writes the report. */
    @SuppressWarnings("try") // the lock is held for the block, not used in it
    public static RunTracker resume(Path runDir, long fromStep, boolean report) {
        RunLayout layout = new RunLayout(runDir);
        try (LockFile lock = LockFile.acquire(runDir.resolve(".resume.lock"))) {
            Run run = RunStore.readDir(runDir);
            if (run.status() == RunStatus.RUNNING) {
                throw new UserError("run " + run.id() + " is still running (process " + run.info().process().pid() + " on "
                        + run.info().process().host() + "); stop it before resuming");
            }
            if (run.status() == RunStatus.FINISHED) throw new UserError("run " + run.id() + " already finished; start a new run instead");
            StringBuilder kept = new StringBuilder();
            long lastStep = -1;
            for (MetricPoint p : run.metrics()) {
                if (p.step() > fromStep) continue;
                kept.append(p.toJsonLine()).append('\n');
                lastStep = p.step();
            }
            AtomicFiles.write(layout.metrics(), kept.toString().getBytes(StandardCharsets.UTF_8));
            RunInfo info = run.info().resumedBy(ProcessRef.current());
            AtomicFiles.write(layout.runJson(), RunJson.pretty(info));
            Files.write(layout.heartbeat(), new byte[0]); // a fresh heartbeat (and the file, if a hand-made run lacked it)
            RunTracker tracker = new RunTracker(layout, info, Clock.systemUTC(), report);
            tracker.lastStep = lastStep;
            tracker.note("resumed from step " + fromStep + " by pid " + info.process().pid() + " on " + info.process().host()
                    + " (was " + run.status().json() + (run.statusNote() == null ? "" : ": " + run.statusNote()) + ")");
            log.info("run {} resumed from step {}", run.id(), fromStep);
            return tracker;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot resume the run in " + runDir + ": " + e.getMessage(), e);
        }
    }

    private static FileRef identity(Path path, String what) {
        if (!Files.exists(path)) throw new UserError(what + " " + path + ": no such file or folder");
        return Sha256.of(path);
    }

    private static byte[] configYaml(Object config) throws IOException {
        if (config == null) return "# no configuration recorded\n".getBytes(StandardCharsets.UTF_8);
        if (config instanceof String s) return s.getBytes(StandardCharsets.UTF_8);
        return YAML.writeValueAsBytes(config);
    }

    public String id() {
        return info.id();
    }

    public RunLayout layout() {
        return layout;
    }

    public Path dir() {
        return layout.dir();
    }

    /** Where the trainer saves resumable state. */
    public Path checkpointsDir() {
        return layout.checkpoints();
    }

    /** Where the trainer saves the final adapter (PEFT format); created by the trainer. */
    public Path adapterDir() {
        return layout.adapter();
    }

    public synchronized RunInfo info() {
        return info;
    }

    /** Logs the values of one step by their file names ({@code loss}, {@code eval_loss}, {@code learning_rate}, ...). */
    public void log(long step, Map<String, Double> values) {
        log(MetricPoint.of(step, values));
    }

    /** Appends one line to metrics.jsonl (one write call, so a line is never interleaved with another). */
    public synchronized void log(MetricPoint point) {
        requireRunning("log metrics");
        if (point.step() < lastStep) {
            throw new IllegalArgumentException("step " + point.step() + " logged after step " + lastStep + ": steps must not go backwards");
        }
        lastStep = point.step();
        double elapsed = (clock.millis() - info.startedAt().toEpochMilli()) / 1000.0;
        MetricPoint stamped = point.elapsedS() == null ? point.withElapsed(elapsed) : point;
        byte[] bytes = (stamped.toJsonLine() + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) metrics.write(buf);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + layout.metrics() + ": " + e.getMessage(), e);
        }
    }

    /** Appends a time-stamped line to the run's train.log. */
    public synchronized void note(String message) {
        try {
            Files.writeString(layout.log(), line(clock.instant(), message), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + layout.log() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Records a file or folder the run produced, with its SHA-256; a path inside the run folder is
     * recorded relative to it.
     */
    public synchronized FileRef artifact(String name, Path path) {
        if (!Files.exists(path)) throw new IllegalArgumentException("artifact '" + name + "': " + path + " does not exist");
        FileRef ref = Sha256.of(path);
        Path abs = path.toAbsolutePath().normalize();
        Path dir = layout.dir().toAbsolutePath().normalize();
        if (abs.startsWith(dir)) ref = new FileRef(dir.relativize(abs).toString(), ref.sha256(), ref.bytes());
        info = info.withArtifact(name, ref);
        writeInfo();
        return ref;
    }

    /**
     * Marks the run finished. Final metrics are the last logged value of each metric, overridden by
     * {@code finalMetrics}. A saved adapter folder is recorded as the artifact "adapter". Then the
     * HTML report with its charts is written into report/ (unless {@link RunSpec#withoutReport()}).
     */
    public synchronized void finish(Map<String, Double> finalMetrics) {
        requireRunning("finish");
        if (Files.isDirectory(layout.adapter()) && !info.artifacts().containsKey("adapter")) artifact("adapter", layout.adapter());
        Map<String, Double> all = lastLogged();
        if (finalMetrics != null) all.putAll(finalMetrics);
        info = info.withFinalMetrics(all);
        end(RunStatus.FINISHED, null);
        if (!report) return;
        try {
            RunReport.write(RunStore.readDir(layout.dir()));
        } catch (RuntimeException e) {
            // The run itself is complete and recorded; a chart that cannot be drawn must not undo that.
            log.warn("run {} finished but its report could not be written (retry with: finadvisor runs report {}): {}", id(), id(), e.toString());
        }
    }

    /**
     * Marks the run failed with the error's message. On a run that already ended it only logs: it
     * is called from error paths, where throwing would hide the error being handled.
     */
    public synchronized void fail(Throwable error) {
        if (!isRunning()) {
            log.warn("run {} is already {}; not marking it failed for: {}", id(), info.status().json(), error.toString());
            return;
        }
        info = info.withFinalMetrics(lastLogged());
        String message = error.getMessage() == null ? error.getClass().getName() : error.getClass().getSimpleName() + ": " + error.getMessage();
        end(RunStatus.FAILED, message);
    }

    public synchronized boolean isRunning() {
        return info.status() == RunStatus.RUNNING;
    }

    /** Marks a run that neither finished nor failed as failed, and stops its heartbeat. */
    @Override
    public synchronized void close() {
        if (isRunning()) fail(new IllegalStateException("the run was closed before finish() or fail() was called"));
    }

    private void end(RunStatus status, String why) {
        info = info.withStatus(status, clock.instant(), why);
        writeInfo();
        note(status.json() + (why == null ? "" : ": " + why) + " after " + info.duration(clock.instant()).toSeconds() + " s");
        heartbeat.shutdownNow();
        try {
            metrics.force(true);
            metrics.close();
        } catch (IOException e) {
            log.warn("run {}: cannot close {}: {}", id(), layout.metrics(), e.toString());
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down: the hook is running or has run
        }
        log.info("run {} {}", id(), status.json());
    }

    /**
     * Has a signal or System.exit before the run ended call {@code action} (null: none) first, before the run is
     * marked killed: it may block to let the owner save its work, and may log and note meanwhile.
     */
    public void onJvmExit(Runnable action) {
        windDown = action;
    }

    /** Closing it ends the wind-down {@link #stopOnJvmExit} set up: the owner's work is saved. */
    public interface WindDown extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Until the returned handle is closed, a signal or System.exit prints {@code message}, runs {@code requestStop} (the
     * owner ends after the step under way and saves it) and waits up to {@code wait} for the handle to be closed before
     * the run is marked killed and the JVM goes on exiting. After closing, a signal ends the run as it would any job.
     */
    public WindDown stopOnJvmExit(String message, Runnable requestStop, Duration wait) {
        CountDownLatch settled = new CountDownLatch(1);
        onJvmExit(() -> {
            System.err.println(message);
            requestStop.run();
            try {
                settled.await(wait.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        return () -> {
            onJvmExit(null);
            settled.countDown();
        };
    }

    /** The JVM exits (Ctrl-C, SIGTERM, System.exit) before the run ended: say so now rather than leave "running". */
    private void jvmExiting() {
        Runnable action = windDown;
        if (action != null && isRunning()) action.run(); // outside the lock: the owner logs and notes while it winds down
        kill("the JVM exited (signal or System.exit) before the run finished");
    }

    /** Ends a running run as killed: stopped before its end, resumable (see {@link #resume}). */
    public synchronized void kill(String why) {
        if (!isRunning()) return;
        info = info.withFinalMetrics(lastLogged());
        end(RunStatus.KILLED, why);
    }

    /**
     * The last value of each metric in metrics.jsonl, read from the file so lines a trainer appended
     * itself count too; elapsed_s is left out (a time stamp, not a result: run.json has the duration).
     */
    private Map<String, Double> lastLogged() {
        Map<String, Double> last = new LinkedHashMap<>();
        try {
            for (MetricPoint p : RunStore.readMetrics(layout.metrics(), true, new java.util.ArrayList<>())) last.putAll(p.values());
        } catch (UserError e) {
            log.warn("run {}: final metrics left out: {}", id(), e.getMessage());
            return new LinkedHashMap<>();
        }
        last.remove(MetricPoint.ELAPSED_S);
        return last;
    }

    private void beat() {
        try {
            Files.setLastModifiedTime(layout.heartbeat(), FileTime.from(clock.instant()));
        } catch (IOException e) {
            log.warn("run {}: cannot touch {}: {}", id(), layout.heartbeat(), e.toString());
        }
    }

    private void writeInfo() {
        AtomicFiles.write(layout.runJson(), RunJson.pretty(info));
    }

    private void requireRunning(String what) {
        if (!isRunning()) throw new IllegalStateException("cannot " + what + ": run " + id() + " is already " + info.status().json());
    }

    private static String line(Instant at, String message) {
        return at + " " + message + "\n";
    }
}
