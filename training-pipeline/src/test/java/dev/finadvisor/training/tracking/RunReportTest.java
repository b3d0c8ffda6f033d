package dev.finadvisor.training.tracking;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finadvisor.domain.runs.Run;
import dev.finadvisor.domain.runs.RunStore;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunReportTest {
    @TempDir
    Path tmp;

    @Test
    void finishingARunWritesASelfContainedReportWithChartsAndFinalNumbers() throws Exception {
        Path dir;
        try (RunTracker t = RunTracker.start(new RunSpec(tmp.resolve("runs"), "rep", Map.of("lora", Map.of("r", 8)),
                Fixtures.baseModel(tmp), Fixtures.dataset(tmp), "PyTorch 2.7.1", "cpu()"))) {
            for (int step = 1; step <= 10; step++) {
                t.log(step, Map.of("loss", 3.0 - step * 0.1, "learning_rate", 1e-4, "tokens_per_s", 1000.0 + step, "grad_norm", 0.5));
            }
            t.log(10, Map.of("eval_loss", 2.125, "perplexity", Math.exp(2.125)));
            t.finish(Map.of("eval_loss", 2.125));
            dir = t.dir();
        }
        Run run = RunStore.readDir(dir);
        Path html = run.layout().reportHtml();
        String page = Files.readString(html);
        assertThat(page).startsWith("<!DOCTYPE html>").contains("Run " + run.id()).contains("finished")
                .contains("<td>eval_loss</td><td class=\"num\">2.125</td>")
                .contains("PyTorch 2.7.1").contains("r: 8").contains(run.info().baseModel().sha256());
        assertThat(page).doesNotContain("<script").doesNotContain("http://").doesNotContain("https://").doesNotContain("<link");
        Matcher m = Pattern.compile("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(page);
        int images = 0;
        while (m.find()) {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(m.group(1))));
            assertThat(img.getWidth()).isEqualTo(RunCharts.WIDTH);
            assertThat(img.getHeight()).isEqualTo(RunCharts.HEIGHT);
            images++;
        }
        assertThat(images).isEqualTo(4); // loss (+eval), learning rate, tokens/s, gradient norm
        for (String png : new String[] {"loss.png", "learning_rate.png", "tokens_per_s.png", "grad_norm.png"}) {
            assertThat(ImageIO.read(run.layout().reportDir().resolve(png).toFile()).getWidth()).isEqualTo(RunCharts.WIDTH);
        }
    }

    @Test
    void aRunWithoutMetricsStillGetsAReportSayingSo() throws Exception {
        Path dir;
        try (RunTracker t = RunTracker.start(new RunSpec(tmp.resolve("runs"), "empty", null, null, null, "t", "cpu()"))) {
            t.fail(new RuntimeException("out of memory <at step 0>"));
            dir = t.dir();
        }
        Path html = RunReport.write(RunStore.readDir(dir));
        assertThat(Files.readString(html)).contains("failed: RuntimeException: out of memory &lt;at step 0&gt;")
                .contains("No metrics were recorded").contains("No loss, learning rate");
    }
}
