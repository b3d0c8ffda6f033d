package dev.finadvisor.training.tracking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.runs.MetricPoint;
import dev.finadvisor.domain.runs.Run;
import dev.finadvisor.domain.runs.RunStatus;
import dev.finadvisor.domain.runs.RunStore;
import dev.finadvisor.domain.runs.Sha256;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunTrackerTest {
    @TempDir
    Path tmp;

    private RunSpec spec(String name) throws Exception {
        return new RunSpec(tmp.resolve("runs"), name, Map.of("training", Map.of("learning_rate", 2e-4, "epochs", 1)),
                Fixtures.baseModel(tmp), Fixtures.dataset(tmp), "PyTorch 2.7.1", "cpu()").withoutReport();
    }

    @Test
    void recordsIdentityMetricsAndFinalNumbersInPlainFiles() throws Exception {
        RunSpec spec = spec("fin-advisor");
        Path runDir;
        try (RunTracker run = RunTracker.start(spec)) {
            runDir = run.dir();
            assertThat(run.id()).matches("\\d{8}-\\d{6}-fin-advisor");
            run.log(1, Map.of("loss", 2.5, "learning_rate", 1e-4, "tokens_per_s", 800.0, "grad_norm", 1.25));
            run.log(2, Map.of("loss", 2.0, "eval_loss", 2.25, "perplexity", Math.exp(2.25)));
            Fixtures.adapter(run.adapterDir(), 7);
            run.finish(Map.of("eval_loss", 2.2));
        }
        Run r = RunStore.readDir(runDir);
        assertThat(r.status()).isEqualTo(RunStatus.FINISHED);
        assertThat(r.info().endedAt()).isAfterOrEqualTo(r.info().startedAt());
        assertThat(r.info().baseModel().sha256()).isEqualTo(Sha256.hex(spec.baseModel()));
        assertThat(r.info().baseModel().path()).isEqualTo(spec.baseModel().toAbsolutePath().normalize().toString());
        assertThat(r.info().dataset().sha256()).isEqualTo(Sha256.hex(spec.dataset()));
        assertThat(r.info().machine().cores()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(r.info().machine().memoryBytes()).isPositive();
        assertThat(r.info().machine().engine()).isEqualTo("PyTorch 2.7.1");
        assertThat(r.info().process().pid()).isEqualTo(ProcessHandle.current().pid());
        assertThat(r.metrics()).extracting(MetricPoint::step).containsExactly(1L, 2L);
        assertThat(r.metrics()).allSatisfy(p -> assertThat(p.elapsedS()).isNotNull().isGreaterThanOrEqualTo(0.0));
        assertThat(r.info().finalMetrics()).containsEntry("loss", 2.0).containsEntry("eval_loss", 2.2)
                .containsEntry("tokens_per_s", 800.0).containsEntry("grad_norm", 1.25);
        assertThat(r.info().artifacts()).containsKey("adapter");
        assertThat(r.info().artifacts().get("adapter").path()).isEqualTo("adapter");
        assertThat(r.info().artifacts().get("adapter").sha256()).isEqualTo(Sha256.hex(runDir.resolve("adapter")));
        var config = new ObjectMapper(new YAMLFactory()).readTree(runDir.resolve("config.yaml").toFile());
        assertThat(config.at("/training/learning_rate").asDouble()).isEqualTo(2e-4);
        assertThat(Files.isDirectory(runDir.resolve("checkpoints"))).isTrue();
        assertThat(runDir.resolve("report")).doesNotExist(); // withoutReport(); RunReportTest covers the default
        assertThat(Files.readString(runDir.resolve("train.log"))).contains("started run " + r.id()).contains("finished after");
        assertThat(Files.list(tmp.resolve("runs")).map(p -> p.getFileName().toString())).containsExactly(r.id());
    }

    @Test
    void recordsTheProjectsGitCommit() throws Exception {
        Path root = Path.of(System.getProperty("finadvisor.root.dir", "..")).toAbsolutePath().normalize();
        Process git = new ProcessBuilder("git", "-C", root.toString(), "rev-parse", "HEAD").start();
        String expected = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        git.waitFor();
        GitCommit commit = GitCommit.of(root.resolve("training-pipeline"));
        if (git.exitValue() == 0) {
            assertThat(commit.commit()).isEqualTo(expected);
        } else {
            assertThat(commit.commit()).matches("[0-9a-f]{40}|unknown");
        }
        assertThat(GitCommit.of(tmp).commit()).isEqualTo(GitCommit.UNKNOWN); // no repository above a temp folder
    }

    @Test
    void readsPackedRefsAndWorktreeGitFiles() throws Exception {
        Path common = Files.createDirectories(tmp.resolve("repo/.git"));
        Files.writeString(common.resolve("packed-refs"), "# pack-refs with: peeled\n" + "a".repeat(40) + " refs/heads/main\n");
        Path wtGit = Files.createDirectories(common.resolve("worktrees/wt"));
        Files.writeString(wtGit.resolve("HEAD"), "ref: refs/heads/main\n");
        Files.writeString(wtGit.resolve("commondir"), "../..\n");
        Path wt = Files.createDirectories(tmp.resolve("wt/sub"));
        Files.writeString(tmp.resolve("wt/.git"), "gitdir: " + wtGit + "\n");
        assertThat(GitCommit.readHead(tmp.resolve("wt"))).contains("a".repeat(40));
        Files.createDirectories(common.resolve("refs/heads"));
        Files.writeString(common.resolve("refs/heads/main"), "b".repeat(40) + "\n");
        assertThat(GitCommit.readHead(tmp.resolve("wt"))).contains("b".repeat(40)); // loose ref wins over packed
        Files.writeString(wtGit.resolve("HEAD"), "c".repeat(40) + "\n"); // detached
        assertThat(GitCommit.readHead(tmp.resolve("wt"))).contains("c".repeat(40));
        assertThat(wt).exists();
    }

    @Test
    void runsStartedAtTheSameMomentWithTheSameNameNeverShareAFolder() throws Exception {
        RunSpec spec = spec("same");
        Clock frozen = Clock.fixed(Instant.parse("2026-11-26T07:00:00Z"), ZoneOffset.UTC);
        int n = 6;
        CyclicBarrier barrier = new CyclicBarrier(n);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        List<Future<Path>> futures = new ArrayList<>();
        for (int t = 0; t < n; t++) {
            final int worker = t;
            futures.add(pool.submit(() -> {
                barrier.await();
                try (RunTracker run = RunTracker.start(spec, frozen)) {
                    for (int step = 0; step < 200; step++) run.log(step, Map.of("loss", (double) worker, "extra_worker", (double) worker));
                    run.finish(Map.of());
                    return run.dir();
                }
            }));
        }
        Set<Path> dirs = new HashSet<>();
        for (Future<Path> f : futures) dirs.add(f.get(60, TimeUnit.SECONDS));
        pool.shutdown();
        assertThat(dirs).hasSize(n);
        RunStore.Listing listing = new RunStore(spec.runsDir()).list();
        assertThat(listing.problems()).isEmpty();
        assertThat(listing.runs()).hasSize(n).extracting(Run::id).allMatch(id -> id.startsWith("20261126-070000-same"));
        for (Run r : listing.runs()) {
            assertThat(r.metrics()).hasSize(200);
            double worker = r.metrics().get(0).loss();
            assertThat(r.metrics()).allSatisfy(p -> assertThat(p.extra()).containsEntry("extra_worker", worker));
        }
        assertThat(Files.list(spec.runsDir()).filter(p -> p.getFileName().toString().startsWith("."))).isEmpty();
    }

    @Test
    void closingWithoutFinishMarksTheRunFailedAndFailRecordsTheError() throws Exception {
        Path a;
        try (RunTracker run = RunTracker.start(spec("a"))) {
            a = run.dir();
        }
        assertThat(RunStore.readDir(a).status()).isEqualTo(RunStatus.FAILED);
        assertThat(RunStore.readDir(a).statusNote()).contains("closed before finish()");
        RunTracker b = RunTracker.start(spec("b"));
        b.log(1, Map.of("loss", 1.0));
        b.fail(new IllegalStateException("loss went NaN at step 2"));
        Run rb = RunStore.readDir(b.dir());
        assertThat(rb.status()).isEqualTo(RunStatus.FAILED);
        assertThat(rb.statusNote()).isEqualTo("IllegalStateException: loss went NaN at step 2");
        assertThat(rb.info().finalMetrics()).containsEntry("loss", 1.0);
        assertThatThrownBy(() -> b.log(2, Map.of("loss", 1.0))).isInstanceOf(IllegalStateException.class).hasMessageContaining("already failed");
        b.close(); // no-op once ended
        b.fail(new IllegalStateException("a later error in cleanup")); // only logged: the recorded failure stays
        assertThat(RunStore.readDir(b.dir()).statusNote()).isEqualTo("IllegalStateException: loss went NaN at step 2");
        RunTracker c = RunTracker.start(spec("c"));
        c.finish(Map.of());
        c.fail(new RuntimeException("closing the engine failed"));
        assertThat(RunStore.readDir(c.dir()).status()).isEqualTo(RunStatus.FINISHED);
        assertThatThrownBy(() -> c.finish(Map.of())).isInstanceOf(IllegalStateException.class).hasMessageContaining("already finished");
    }

    @Test
    void finalMetricsIncludeLinesATrainerAppendedToMetricsJsonlItself() throws Exception {
        try (RunTracker run = RunTracker.start(spec("own-log"))) {
            Files.writeString(run.layout().metrics(), "{\"step\": 10, \"loss\": 1.25, \"eval_loss\": 1.5}\n", java.nio.file.StandardOpenOption.APPEND);
            run.finish(Map.of("loss", 1.125));
            assertThat(RunStore.readDir(run.dir()).info().finalMetrics()).containsEntry("eval_loss", 1.5).containsEntry("loss", 1.125);
        }
    }

    @Test
    void stepsMustNotGoBackwardsAndNamesAreChecked() throws Exception {
        try (RunTracker run = RunTracker.start(spec("order"))) {
            run.log(5, Map.of("loss", 1.0));
            assertThatThrownBy(() -> run.log(4, Map.of("loss", 1.0))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("step 4 logged after step 5");
            run.finish(null);
        }
        assertThatThrownBy(() -> RunTracker.start(new RunSpec(tmp.resolve("runs"), "bad/name", null, null, null, null, null)))
                .isInstanceOf(UserError.class).hasMessageContaining("run name 'bad/name'");
        assertThatThrownBy(() -> RunTracker.start(new RunSpec(tmp.resolve("runs"), "x", null, tmp.resolve("missing-model"), null, null, null)))
                .isInstanceOf(UserError.class).hasMessageContaining("base model " + tmp.resolve("missing-model") + ": no such file or folder");
    }

    private Process child(Path runsDir) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), TrackerChild.class.getName(), runsDir.toString())
                .redirectErrorStream(true).start();
    }

    private static String awaitReady(Process p) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        for (String line; (line = out.readLine()) != null; ) {
            if (line.startsWith("ready ")) return line.substring(6);
            seen.append(line).append('\n');
        }
        throw new AssertionError("child ended without starting a run:\n" + seen);
    }

    @Test
    void aRunWhoseProcessIsKilledReadsAsKilledNotRunning() throws Exception {
        Path runsDir = tmp.resolve("runs");
        Process p = child(runsDir);
        String id = awaitReady(p);
        assertThat(new RunStore(runsDir).read(id).status()).isEqualTo(RunStatus.RUNNING);
        p.destroyForcibly(); // SIGKILL: no shutdown hook runs, run.json still says "running"
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        Run r = new RunStore(runsDir).read(id);
        assertThat(r.info().status()).isEqualTo(RunStatus.RUNNING);
        assertThat(r.status()).isEqualTo(RunStatus.KILLED);
        assertThat(r.statusNote()).contains("process " + p.pid()).contains("ended without finishing");
        assertThat(r.metrics()).hasSize(3);

        // Training resumes from its checkpoint at step 2: step 3 will be logged again, so it goes.
        try (RunTracker resumed = RunTracker.resume(r.layout().dir(), 2, false)) {
            assertThat(RunStore.readDir(r.layout().dir()).status()).isEqualTo(RunStatus.RUNNING);
            assertThat(RunStore.readDir(r.layout().dir()).info().process().pid()).isEqualTo(ProcessHandle.current().pid());
            assertThatThrownBy(() -> RunTracker.resume(r.layout().dir(), 2)).isInstanceOf(UserError.class)
                    .hasMessageContaining("is still running (process " + ProcessHandle.current().pid());
            assertThatThrownBy(() -> resumed.log(1, Map.of("loss", 9.0))).hasMessageContaining("step 1 logged after step 2");
            resumed.log(3, Map.of("loss", 0.75));
            resumed.finish(Map.of());
        }
        Run done = new RunStore(runsDir).read(id);
        assertThat(done.status()).isEqualTo(RunStatus.FINISHED);
        assertThat(done.metrics()).extracting(MetricPoint::step).containsExactly(1L, 2L, 3L);
        assertThat(done.metrics().get(2).loss()).isEqualTo(0.75);
        assertThat(done.info().finalMetrics()).containsEntry("loss", 0.75);
        assertThat(Files.readString(done.layout().log())).contains("resumed from step 2 by pid " + ProcessHandle.current().pid())
                .contains("(was killed: process " + p.pid());
        assertThatThrownBy(() -> RunTracker.resume(done.layout().dir(), 3)).isInstanceOf(UserError.class).hasMessageContaining("already finished");
    }

    @Test
    void aRunWhoseProcessIsTerminatedIsMarkedKilledInItsFile() throws Exception {
        Path runsDir = tmp.resolve("runs");
        Process p = child(runsDir);
        String id = awaitReady(p);
        p.destroy(); // SIGTERM: the shutdown hook records the end
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        Run r = new RunStore(runsDir).read(id);
        assertThat(r.info().status()).isEqualTo(RunStatus.KILLED);
        assertThat(r.info().error()).contains("JVM exited");
        assertThat(r.info().finalMetrics()).containsEntry("loss", 1.0);
    }
}
