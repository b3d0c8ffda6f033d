package dev.finadvisor.domain.runs;

import dev.finadvisor.domain.UserError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** Reads the runs folder (default {@code ./runs}): every run, one run by id, with its real status. */
public final class RunStore {
    private final Path dir;

    public RunStore(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /** The runs that could be read, oldest first, and one line per folder that could not. */
    public record Listing(List<Run> runs, List<String> problems) {}

    public Listing list() {
        if (!Files.isDirectory(dir)) {
            if (Files.exists(dir)) throw new UserError(dir + ": not a folder (give the runs folder with --runs-dir)");
            return new Listing(List.of(), List.of());
        }
        List<Run> runs = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Path d : children(dir)) {
            try {
                runs.add(readDir(d));
            } catch (UserError e) {
                problems.add(e.getMessage());
            }
        }
        runs.sort(Comparator.comparing((Run r) -> r.info().startedAt(), Comparator.nullsFirst(Comparator.naturalOrder()))
                .thenComparing(Run::id));
        return new Listing(runs, problems);
    }

    /** The run with this id (a folder name under the runs folder), a unique prefix of one, or a path to a run folder. */
    public Run read(String run) {
        Path direct = dir.resolve(run);
        if (Files.isRegularFile(direct.resolve(RunLayout.RUN)) || Files.isDirectory(direct)) return readDir(direct);
        Path asPath = Path.of(run);
        if (Files.isRegularFile(asPath.resolve(RunLayout.RUN))) return readDir(asPath);
        List<Path> matches = Files.isDirectory(dir)
                ? children(dir).stream().filter(p -> p.getFileName().toString().startsWith(run)).toList() : List.of();
        if (matches.size() == 1) return readDir(matches.get(0));
        if (matches.size() > 1) {
            throw new UserError("run '" + run + "' is ambiguous in " + dir + ": "
                    + String.join(", ", matches.stream().map(p -> p.getFileName().toString()).toList()));
        }
        throw new UserError("no run '" + run + "' in " + dir + " (list them with: finadvisor runs list --runs-dir " + dir + ")");
    }

    /** Reads one run folder; anything missing or malformed is a {@link UserError} naming the file and line. */
    public static Run readDir(Path runDir) {
        RunLayout layout = new RunLayout(runDir);
        if (!Files.isDirectory(runDir)) throw new UserError(runDir + ": no such run folder");
        RunInfo info = RunJson.read(layout.runJson(), RunInfo.class);
        if (info == null) throw new UserError(layout.runJson() + ": expected a JSON object, found null");
        if (info.id() == null) throw new UserError(layout.runJson() + ": missing field 'id'");
        if (info.status() == null) throw new UserError(layout.runJson() + ": missing field 'status'");
        if (info.startedAt() == null) throw new UserError(layout.runJson() + ": missing field 'started_at'");
        List<String> warnings = new ArrayList<>();
        if (!info.id().equals(layout.id())) {
            warnings.add(layout.runJson() + ": id '" + info.id() + "' differs from the folder name '" + layout.id() + "'");
        }
        RunStatus status = info.status();
        String note = info.error();
        if (status == RunStatus.RUNNING) {
            Optional<String> death = deathOf(info, layout, Instant.now());
            if (death.isPresent()) {
                status = RunStatus.KILLED;
                note = death.get();
            }
        }
        List<MetricPoint> metrics = readMetrics(layout.metrics(), status == RunStatus.RUNNING, warnings);
        Instant ended = info.endedAt();
        if (ended == null && status == RunStatus.KILLED) ended = lastSignOfLife(layout, info.startedAt());
        return new Run(layout, info, status, note, metrics, warnings, ended);
    }

    /** When a run that died without saying so was last seen: its heartbeat or metrics file, whichever is later. */
    static Instant lastSignOfLife(RunLayout layout, Instant startedAt) {
        Instant last = startedAt;
        for (Path f : List.of(layout.heartbeat(), layout.metrics())) {
            try {
                Instant t = Files.getLastModifiedTime(f).toInstant();
                if (t.isAfter(last)) last = t;
            } catch (IOException e) {
                // absent: not a sign
            }
        }
        return last;
    }

    /** Why a run that says "running" is dead, or empty when it lives (or cannot be told). */
    static Optional<String> deathOf(RunInfo info, RunLayout layout, Instant now) {
        ProcessRef p = info.process();
        if (p != null) {
            Optional<Boolean> alive = p.aliveOnThisHost();
            if (alive.isPresent()) {
                return alive.get() ? Optional.empty()
                        : Optional.of("process " + p.pid() + " on " + p.host() + " ended without finishing the run");
            }
        }
        // Another host (or no process recorded): go by the heartbeat.
        Instant beat;
        try {
            beat = Files.getLastModifiedTime(layout.heartbeat()).toInstant();
        } catch (NoSuchFileException e) {
            beat = info.startedAt();
        } catch (IOException e) {
            return Optional.empty();
        }
        Duration silence = Duration.between(beat, now);
        if (silence.compareTo(RunLayout.HEARTBEAT_STALE) > 0) {
            return Optional.of("no heartbeat from " + (p == null ? "its process" : "process " + p.pid() + " on " + p.host())
                    + " for " + silence.toSeconds() + " s");
        }
        return Optional.empty();
    }

    /**
     * Reads metrics.jsonl. Only newline-terminated lines are complete: a final line without one is
     * being written (a live run) or was cut by a kill, and is skipped. A complete line that does
     * not parse is an error naming the file and line.
     */
    public static List<MetricPoint> readMetrics(Path file, boolean live, List<String> warnings) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UserError(file + ": cannot read: " + e.getMessage(), e);
        }
        List<MetricPoint> points = new ArrayList<>();
        int lineNo = 0;
        int start = 0;
        while (start < text.length()) {
            int nl = text.indexOf('\n', start);
            lineNo++;
            if (nl < 0) {
                if (!live) warnings.add(file + " line " + lineNo + ": incomplete last line skipped (the run was cut off while writing it)");
                break;
            }
            String line = text.substring(start, nl).strip();
            start = nl + 1;
            if (line.isEmpty()) continue;
            points.add(MetricPoint.parse(line, file + " line " + lineNo));
        }
        return points;
    }

    /** Run folders: sub-folders not starting with a dot (a run being created is staged in a hidden folder). */
    private static List<Path> children(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new UserError(dir + ": cannot list: " + e.getMessage(), e);
        }
    }
}
