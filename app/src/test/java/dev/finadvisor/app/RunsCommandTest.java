package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finadvisor.domain.runs.RunJson;
import dev.finadvisor.training.tracking.RunSpec;
import dev.finadvisor.training.tracking.RunTracker;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunsCommandTest {
    @TempDir
    Path tmp;

    static MainTest.Result run(String... args) {
        return MainTest.run(args);
    }

    /** A finished run trained with {@code lr}, its loss falling from 3 towards {@code finalLoss}. */
    private String finishedRun(String name, double lr, double finalLoss) throws Exception {
        Path base = Files.createDirectories(tmp.resolve("base"));
        Files.writeString(base.resolve("config.json"), "{\"model_type\": \"llama\"}");
        try (RunTracker t = RunTracker.start(new RunSpec(tmp.resolve("runs"), name,
                Map.of("training", Map.of("learning_rate", lr, "epochs", 1)), base, null, "PyTorch 2.7.1", "cpu()"))) {
            for (int s = 1; s <= 5; s++) t.log(s, Map.of("loss", 3.0 - (3.0 - finalLoss) * s / 5, "learning_rate", lr, "tokens_per_s", 1000.0));
            t.log(5, Map.of("eval_loss", finalLoss + 0.25));
            t.finish(Map.of());
            return t.id();
        }
    }

    private String runsDir() {
        return tmp.resolve("runs").toString();
    }

    @Test
    void listShowsEveryRunWithItsRealStatusAndSkipsBrokenOnesWithAWarning() throws Exception {
        String a = finishedRun("a", 1e-4, 1.5);
        RunTracker live = RunTracker.start(new RunSpec(tmp.resolve("runs"), "live", null, null, null, "t", "cpu()"));
        Path broken = Files.createDirectories(tmp.resolve("runs/zz-broken"));
        Files.writeString(broken.resolve("run.json"), "{\"id\": ");
        MainTest.Result r = run("runs", "list", "--runs-dir", runsDir());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("RUN").contains("STATUS").contains("EVAL_LOSS");
        assertThat(r.out().lines().filter(l -> l.startsWith(a))).singleElement().asString()
                .contains("finished").contains("1.5").contains("1.75").contains("base");
        assertThat(r.out().lines().filter(l -> l.startsWith(live.id()))).singleElement().asString().contains("running");
        assertThat(r.err()).contains("warning: skipped " + broken.resolve("run.json") + " line 1");

        MainTest.Result json = run("runs", "list", "--runs-dir", runsDir(), "--json");
        JsonNode arr = RunJson.MAPPER.readTree(json.out());
        assertThat(arr.size()).isEqualTo(2);
        assertThat(arr.get(0).get("id").asText()).isEqualTo(a);
        assertThat(arr.get(0).at("/final_metrics/eval_loss").asDouble()).isEqualTo(1.75);
        live.finish(Map.of());
    }

    @Test
    void showPrintsIdentityAndFinalNumbersAndFindsRunsByPrefix() throws Exception {
        String a = finishedRun("alpha", 1e-4, 1.5);
        MainTest.Result r = run("runs", "show", a.substring(0, a.length() - 2), "--runs-dir", runsDir());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("run         " + a).contains("status      finished").contains("PyTorch 2.7.1 on cpu()")
                .contains("eval_loss").contains("1.75").doesNotContain("elapsed_s").doesNotContain("warning");
        JsonNode json = RunJson.MAPPER.readTree(run("runs", "show", a, "--runs-dir", runsDir(), "--json").out());
        assertThat(json.get("status").asText()).isEqualTo("finished");
        assertThat(json.get("metrics").size()).isEqualTo(6);
        assertThat(json.at("/run/machine/cores").asInt()).isEqualTo(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void missingOrCorruptRunsAreOneLineErrorsNamingTheFileAndLine() throws Exception {
        String a = finishedRun("a", 1e-4, 1.5);
        MainTest.Result missing = run("runs", "show", "nope", "--runs-dir", runsDir());
        assertThat(missing.code()).isEqualTo(Main.USER_ERROR);
        assertThat(missing.err().strip()).isEqualTo("error: no run 'nope' in " + runsDir() + " (list them with: finadvisor runs list --runs-dir " + runsDir() + ")");
        Path metrics = tmp.resolve("runs").resolve(a).resolve("metrics.jsonl");
        Files.writeString(metrics, Files.readString(metrics).replaceFirst("\"loss\":[0-9.]+", "\"loss\":oops"));
        MainTest.Result corrupt = run("runs", "show", a, "--runs-dir", runsDir());
        assertThat(corrupt.code()).isEqualTo(Main.USER_ERROR);
        assertThat(corrupt.err().strip()).startsWith("error: " + metrics + " line 1: not valid JSON").doesNotContain("\n");
    }

    @Test
    void compareShowsOnlyTheConfigurationThatDiffersAndWritesOverlayCharts() throws Exception {
        String a = finishedRun("a", 1e-4, 1.5);
        String b = finishedRun("b", 3e-4, 1.25);
        Path plots = tmp.resolve("plots");
        MainTest.Result r = run("runs", "compare", a, b, "--runs-dir", runsDir(), "--plots", plots.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines().filter(l -> l.startsWith("training.learning_rate"))).singleElement().asString()
                .contains("1.0E-4").contains("3.0E-4");
        assertThat(r.out()).doesNotContain("training.epochs");
        assertThat(r.out().lines().filter(l -> l.startsWith("eval_loss"))).singleElement().asString().contains("1.75").contains("1.5");
        for (String png : new String[] {"loss.png", "eval_loss.png", "learning_rate.png", "tokens_per_s.png"}) {
            BufferedImage img = ImageIO.read(plots.resolve(png).toFile());
            assertThat(img.getWidth()).as(png).isEqualTo(900);
            assertThat(img.getHeight()).as(png).isEqualTo(480);
        }
        JsonNode json = RunJson.MAPPER.readTree(run("runs", "compare", a, b, "--runs-dir", runsDir(), "--json").out());
        assertThat(json.get("runs").size()).isEqualTo(2);
        assertThat(json.at("/config_differences/training.learning_rate/1").asText()).isEqualTo("3.0E-4");
        assertThat(run("runs", "compare", a, "--runs-dir", runsDir()).code()).isEqualTo(Main.USER_ERROR); // needs two
        Files.writeString(tmp.resolve("runs").resolve(b).resolve("config.yaml"), "training:\n  lr: [1, 2\n");
        MainTest.Result bad = run("runs", "compare", a, b, "--runs-dir", runsDir());
        assertThat(bad.code()).isEqualTo(Main.USER_ERROR);
        assertThat(bad.err()).contains(tmp.resolve("runs").resolve(b).resolve("config.yaml") + " line").contains("not valid YAML");
    }

    @Test
    void reportRewritesTheHtmlReportAndPrintsItsPath() throws Exception {
        String a = finishedRun("a", 1e-4, 1.5);
        Path html = tmp.resolve("runs").resolve(a).resolve("report/report.html");
        Files.delete(html);
        MainTest.Result r = run("runs", "report", a, "--runs-dir", runsDir());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().strip()).isEqualTo(html.toString());
        assertThat(Files.readString(html)).contains("data:image/png;base64,").contains(a);
    }

    @Test
    void emptyRunsFolderListsNoRuns() {
        MainTest.Result r = run("runs", "list", "--runs-dir", tmp.resolve("none").toString());
        assertThat(r.code()).isZero();
        assertThat(r.out().strip()).isEqualTo("no runs");
    }
}
