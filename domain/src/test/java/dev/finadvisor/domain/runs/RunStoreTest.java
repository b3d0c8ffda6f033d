package dev.finadvisor.domain.runs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finadvisor.domain.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunStoreTest {
    @TempDir
    Path runs;

    /** A run folder written by hand, the way a script in another language would. */
    private Path run(String id, String status, String process) throws IOException {
        Path dir = Files.createDirectories(runs.resolve(id));
        Files.writeString(dir.resolve("run.json"), """
                {
                  "format": 1,
                  "id": "%s",
                  "name": "fin",
                  "status": "%s",
                  "started_at": "2026-11-26T07:00:00Z",
                  "base_model": {"path": "/models/tiny", "sha256": "ab12", "bytes": 10},
                  "git_commit": "unknown",
                  %s
                  "final_metrics": {"loss": 1.5},
                  "some_future_field": [1, 2]
                }
                """.formatted(id, status, process == null ? "" : "\"process\": " + process + ","));
        return dir;
    }

    @Test
    void readsARunWrittenByAnotherToolIgnoringUnknownFields() throws IOException {
        Path dir = run("20261126-070000-fin", "finished", null);
        Files.writeString(dir.resolve("metrics.jsonl"), """
                {"step": 1, "loss": 2.5, "learning_rate": 1e-4, "tokens_per_s": 900.5}
                {"step": 2, "loss": "NaN", "my_metric": 3}

                {"step": 3, "loss": 1.5, "eval_loss": 1.75, "perplexity": 5.75}
                """);
        Run r = new RunStore(runs).read("20261126-070000-fin");
        assertThat(r.status()).isEqualTo(RunStatus.FINISHED);
        assertThat(r.info().baseModel().sha256()).isEqualTo("ab12");
        assertThat(r.metrics()).hasSize(3);
        assertThat(r.metrics().get(1).loss()).isNaN();
        assertThat(r.metrics().get(1).extra()).containsEntry("my_metric", 3.0);
        assertThat(r.last("eval_loss")).contains(1.75);
        assertThat(r.series("loss").steps()).containsExactly(1.0, 2.0, 3.0);
        assertThat(r.series("eval_loss").values()).containsExactly(1.75);
        assertThat(r.warnings()).isEmpty();
    }

    @Test
    void findsARunByUniquePrefixAndNamesTheCandidatesWhenAmbiguous() throws IOException {
        run("20261126-070000-a", "finished", null);
        run("20261126-080000-b", "finished", null);
        RunStore store = new RunStore(runs);
        assertThat(store.read("20261126-08").id()).isEqualTo("20261126-080000-b");
        assertThatThrownBy(() -> store.read("20261126-0")).isInstanceOf(UserError.class)
                .hasMessageContaining("ambiguous").hasMessageContaining("20261126-070000-a").hasMessageContaining("20261126-080000-b");
        assertThatThrownBy(() -> store.read("nope")).isInstanceOf(UserError.class)
                .hasMessageContaining("no run 'nope' in " + runs);
    }

    @Test
    void corruptRunJsonIsAnErrorNamingTheFileAndLine() throws IOException {
        Path dir = Files.createDirectories(runs.resolve("bad"));
        Files.writeString(dir.resolve("run.json"), "{\n  \"id\": \"bad\",\n  \"status\": running\n}\n");
        assertThatThrownBy(() -> RunStore.readDir(dir)).isInstanceOf(UserError.class)
                .hasMessageStartingWith(dir.resolve("run.json") + " line 3 column")
                .hasMessageContaining("not valid JSON");
    }

    @Test
    void unknownStatusNamesTheFieldAndTheAllowedValues() throws IOException {
        Path dir = run("odd", "paused", null);
        assertThatThrownBy(() -> RunStore.readDir(dir)).isInstanceOf(UserError.class)
                .hasMessageContaining(dir.resolve("run.json").toString()).hasMessageContaining("field 'status'")
                .hasMessageContaining("running, finished, failed, killed");
    }

    @Test
    void missingRunJsonAndMissingFieldsAreNamed() throws IOException {
        Path empty = Files.createDirectories(runs.resolve("empty"));
        assertThatThrownBy(() -> RunStore.readDir(empty)).isInstanceOf(UserError.class)
                .hasMessage(empty.resolve("run.json") + ": missing");
        Path noStatus = Files.createDirectories(runs.resolve("nostatus"));
        Files.writeString(noStatus.resolve("run.json"), "{\"id\": \"nostatus\", \"started_at\": \"2026-11-26T07:00:00Z\"}");
        assertThatThrownBy(() -> RunStore.readDir(noStatus)).isInstanceOf(UserError.class)
                .hasMessage(noStatus.resolve("run.json") + ": missing field 'status'");
    }

    @Test
    void listingKeepsGoodRunsAndReportsBadOnesAndSkipsStagingFolders() throws IOException {
        run("20261126-070000-good", "finished", null);
        Files.createDirectories(runs.resolve("broken"));
        Files.createDirectories(runs.resolve(".starting-1234"));
        RunStore.Listing listing = new RunStore(runs).list();
        assertThat(listing.runs()).extracting(Run::id).containsExactly("20261126-070000-good");
        assertThat(listing.problems()).containsExactly(runs.resolve("broken").resolve("run.json") + ": missing");
        assertThat(new RunStore(runs.resolve("absent")).list().runs()).isEmpty();
    }

    @Test
    void corruptMetricsLineIsAnErrorNamingFileLineAndField() throws IOException {
        Path dir = run("m", "finished", null);
        Files.writeString(dir.resolve("metrics.jsonl"), "{\"step\": 1, \"loss\": 2.0}\n{\"step\": 2, \"loss\": \"high\"}\n");
        assertThatThrownBy(() -> RunStore.readDir(dir)).isInstanceOf(UserError.class)
                .hasMessage(dir.resolve("metrics.jsonl") + " line 2: field 'loss' is \"high\", expected a number");
        Files.writeString(dir.resolve("metrics.jsonl"), "{\"step\": 1}\n{\"loss\": 2.0}\n");
        assertThatThrownBy(() -> RunStore.readDir(dir)).hasMessage(dir.resolve("metrics.jsonl") + " line 2: missing field 'step'");
        Files.writeString(dir.resolve("metrics.jsonl"), "{\"step\": 1}\n{\"step\": 2,,}\n");
        assertThatThrownBy(() -> RunStore.readDir(dir)).hasMessageStartingWith(dir.resolve("metrics.jsonl") + " line 2: not valid JSON");
        Files.writeString(dir.resolve("metrics.jsonl"), "{\"step\": -1}\n");
        assertThatThrownBy(() -> RunStore.readDir(dir)).hasMessageContaining("line 1: field 'step' is -1, expected a whole number >= 0");
    }

    @Test
    void lastLineCutOffByAKillIsSkippedWithAWarning() throws IOException {
        Path dir = run("cut", "failed", null);
        Files.writeString(dir.resolve("metrics.jsonl"), "{\"step\": 1, \"loss\": 2.0}\n{\"step\": 2, \"lo");
        Run r = RunStore.readDir(dir);
        assertThat(r.metrics()).hasSize(1);
        assertThat(r.warnings()).singleElement().asString().contains("line 2: incomplete last line skipped");
    }

    @Test
    void runningRunWhoseProcessIsGoneReadsAsKilled() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        ProcessRef dead = new ProcessRef(p.pid(), ProcessRef.localHost(), p.info().startInstant().orElse(Instant.now()));
        Path dir = run("dead", "running", RunJson.MAPPER.writeValueAsString(dead));
        Run r = RunStore.readDir(dir);
        assertThat(r.info().status()).isEqualTo(RunStatus.RUNNING);
        assertThat(r.status()).isEqualTo(RunStatus.KILLED);
        assertThat(r.statusNote()).contains("process " + p.pid()).contains("ended without finishing");
        // its duration ends where it was last seen (heartbeat, metrics), not now
        Instant lastBeat = Instant.parse("2026-11-26T07:20:00Z");
        Files.writeString(dir.resolve("heartbeat"), "");
        Files.setLastModifiedTime(dir.resolve("heartbeat"), FileTime.from(lastBeat));
        Files.writeString(dir.resolve("metrics.jsonl"), "{\"step\": 1, \"loss\": 2.0}\n");
        Files.setLastModifiedTime(dir.resolve("metrics.jsonl"), FileTime.from(lastBeat.minusSeconds(30)));
        Run seen = RunStore.readDir(dir);
        assertThat(seen.endedAt()).isEqualTo(lastBeat);
        assertThat(seen.duration(Instant.now())).isEqualTo(Duration.ofMinutes(20));
    }

    @Test
    void runningRunOfThisLiveProcessStaysRunning() throws IOException {
        Path dir = run("alive", "running", RunJson.MAPPER.writeValueAsString(ProcessRef.current()));
        assertThat(RunStore.readDir(dir).status()).isEqualTo(RunStatus.RUNNING);
    }

    @Test
    void reusedPidWithAnotherStartTimeReadsAsKilled() throws IOException {
        ProcessRef me = ProcessRef.current();
        ProcessRef earlier = new ProcessRef(me.pid(), me.host(), me.startedAt().minus(Duration.ofHours(1)));
        Path dir = run("reused", "running", RunJson.MAPPER.writeValueAsString(earlier));
        assertThat(RunStore.readDir(dir).status()).isEqualTo(RunStatus.KILLED);
    }

    @Test
    void runOnAnotherHostGoesByItsHeartbeat() throws IOException {
        ProcessRef remote = new ProcessRef(1, "some-other-host", Instant.parse("2026-11-26T07:00:00Z"));
        Path dir = run("remote", "running", RunJson.MAPPER.writeValueAsString(remote));
        Path beat = Files.createFile(dir.resolve("heartbeat"));
        Files.setLastModifiedTime(beat, FileTime.from(Instant.now()));
        assertThat(RunStore.readDir(dir).status()).isEqualTo(RunStatus.RUNNING);
        Files.setLastModifiedTime(beat, FileTime.from(Instant.now().minus(Duration.ofMinutes(10))));
        Run stale = RunStore.readDir(dir);
        assertThat(stale.status()).isEqualTo(RunStatus.KILLED);
        assertThat(stale.statusNote()).contains("no heartbeat from process 1 on some-other-host");
    }
}
