package dev.finadvisor.training.tracking;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finadvisor.domain.runs.Run;
import dev.finadvisor.domain.runs.RunStore;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYSeries;

class RunChartsTest {
    /** More pixels than a legend swatch has: only a line across the plot leaves this many. */
    private static final int LINE_PIXELS = 300;

    @TempDir
    Path tmp;

    /** A finished run with loss every step, validation loss every 5th, a warm-up/decay learning rate and throughput. */
    private Run run(String name, double scale, boolean withLoss) throws Exception {
        try (RunTracker t = RunTracker.start(new RunSpec(tmp.resolve("runs"), name, Map.of("scale", scale), null, null, "t", "cpu()").withoutReport())) {
            for (int step = 1; step <= 40; step++) {
                Map<String, Double> v = new LinkedHashMap<>();
                if (withLoss) v.put("loss", scale * 3.0 / Math.sqrt(step));
                if (withLoss && step % 5 == 0) v.put("eval_loss", scale * 3.2 / Math.sqrt(step));
                v.put("learning_rate", step <= 4 ? 2e-4 * step / 4 : 2e-4 * (40 - step) / 36);
                v.put("tokens_per_s", 3800.0 + 50 * Math.sin(step));
                t.log(step, v);
            }
            t.finish(Map.of());
            return RunStore.readDir(t.dir());
        }
    }

    private static BufferedImage decode(byte[] png) throws Exception {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertThat(img).as("decodes as PNG").isNotNull();
        return img;
    }

    /** Pixels of exactly this colour: a drawn line leaves many; an absent one none. */
    private static int pixels(BufferedImage img, Color c) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) if ((img.getRGB(x, y) & 0xFFFFFF) == (c.getRGB() & 0xFFFFFF)) n++;
        }
        return n;
    }

    @Test
    void oneRunGetsLossLearningRateAndThroughputChartsWithALinePerSeries() throws Exception {
        Run r = run("one", 1.0, true);
        List<RunCharts.Chart> charts = RunCharts.forRun(r);
        assertThat(charts).extracting(RunCharts.Chart::file).containsExactly("loss.png", "learning_rate.png", "tokens_per_s.png");
        RunCharts.Chart loss = charts.get(0);
        assertThat(loss.seriesCount()).isEqualTo(2);
        assertThat(loss.series().keySet()).containsExactly("loss", "eval_loss");
        XYSeries eval = loss.series().get("eval_loss");
        assertThat(eval.getXData()).containsExactly(5, 10, 15, 20, 25, 30, 35, 40);
        assertThat(eval.getYData()[0]).isEqualTo(3.2 / Math.sqrt(5));
        assertThat(charts.get(1).seriesCount()).isEqualTo(1);
        // learning rates peak at 2e-4: drawn in units of 1e-4, so the axis reads 0..2, not rounded to "0.0002"
        assertThat(charts.get(1).chart().getYAxisTitle()).isEqualTo("learning rate (x 1e-4)");
        assertThat(java.util.Arrays.stream(charts.get(1).series().get("learning_rate").getYData()).max().orElseThrow()).isCloseTo(2.0, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(charts.get(2).seriesCount()).isEqualTo(1);

        Path file = RunCharts.write(loss, tmp.resolve("plots"));
        assertThat(file).isEqualTo(tmp.resolve("plots/loss.png"));
        BufferedImage img = decode(Files.readAllBytes(file));
        assertThat(img.getWidth()).isEqualTo(RunCharts.WIDTH);
        assertThat(img.getHeight()).isEqualTo(RunCharts.HEIGHT);
        for (XYSeries s : loss.series().values()) {
            assertThat(pixels(img, s.getLineColor())).as("pixels of series " + s.getName()).isGreaterThan(LINE_PIXELS);
        }
        assertThat(pixels(img, RunCharts.PALETTE[2])).as("no third line").isZero();
        assertThat(loss.series().get("loss").getLineColor()).isNotEqualTo(eval.getLineColor());
    }

    @Test
    void overlayDrawsOneLinePerRunThatLoggedTheMetric() throws Exception {
        Run a = run("a", 1.0, true);
        Run b = run("b", 0.8, true);
        Run c = run("c", 0.6, true);
        Run noLoss = run("d", 1.0, false);
        RunCharts.Chart overlay = RunCharts.overlay(List.of(a, b, c, noLoss), "loss").orElseThrow();
        assertThat(overlay.seriesCount()).isEqualTo(3);
        assertThat(overlay.series().keySet()).containsExactly(a.id(), b.id(), c.id());
        BufferedImage img = decode(RunCharts.png(overlay.chart()));
        assertThat(img.getWidth()).isEqualTo(RunCharts.WIDTH);
        assertThat(img.getHeight()).isEqualTo(RunCharts.HEIGHT);
        for (XYSeries s : overlay.series().values()) {
            assertThat(pixels(img, s.getLineColor())).as(s.getName()).isGreaterThan(LINE_PIXELS);
        }
        assertThat(pixels(img, RunCharts.PALETTE[3])).as("no fourth line").isZero();
        assertThat(RunCharts.overlay(List.of(noLoss), "loss")).isEmpty();
        assertThat(RunCharts.overlay(List.of(a, noLoss), "tokens_per_s").orElseThrow().seriesCount()).isEqualTo(2);
    }

    @Test
    void longRunsAreDrawnWithAtMostMaxPointsKeepingEverySpike() {
        java.util.Random rnd = new java.util.Random();
        int n = 5000 + rnd.nextInt(20000);
        List<Double> steps = new java.util.ArrayList<>();
        List<Double> values = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            steps.add((double) i);
            values.add(2.0 + 0.1 * rnd.nextGaussian());
        }
        int spike = rnd.nextInt(n);
        values.set(spike, 50.0);
        int dip = (spike + n / 2) % n;
        values.set(dip, -3.0);
        Run.Series d = RunCharts.decimate(new Run.Series("loss", steps, values), RunCharts.MAX_POINTS);
        assertThat(d.steps()).hasSizeLessThanOrEqualTo(RunCharts.MAX_POINTS).isSorted();
        assertThat(d.values()).contains(50.0, -3.0);
        assertThat(d.steps()).contains((double) spike, (double) dip).contains(0.0, n - 1.0);
        for (int i = 0; i < d.steps().size(); i++) assertThat(d.values().get(i)).isEqualTo(values.get(d.steps().get(i).intValue()));
        Run.Series shortOne = new Run.Series("loss", steps.subList(0, 10), values.subList(0, 10));
        assertThat(RunCharts.decimate(shortOne, RunCharts.MAX_POINTS)).isSameAs(shortOne);
    }

    @Test
    void nonFinitePointsAreLeftOutOfTheLine() throws Exception {
        Path dir;
        try (RunTracker t = RunTracker.start(new RunSpec(tmp.resolve("runs"), "nan", null, null, null, "t", "cpu()").withoutReport())) {
            t.log(1, Map.of("loss", 2.0));
            t.log(2, Map.of("loss", Double.NaN));
            t.log(3, Map.of("loss", 1.5));
            t.finish(Map.of());
            dir = t.dir();
        }
        RunCharts.Chart loss = RunCharts.forRun(RunStore.readDir(dir)).get(0);
        assertThat(loss.series().get("loss").getXData()).containsExactly(1, 3);
        assertThat(decode(RunCharts.png(loss.chart())).getWidth()).isEqualTo(RunCharts.WIDTH);
    }
}
