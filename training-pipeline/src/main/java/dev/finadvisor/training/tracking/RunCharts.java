package dev.finadvisor.training.tracking;

import dev.finadvisor.domain.runs.AtomicFiles;
import dev.finadvisor.domain.runs.MetricPoint;
import dev.finadvisor.domain.runs.Run;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Line charts of a run's metrics over optimiser steps (XChart), for one run or overlaid across
 * runs, rendered to PNG. Non-finite values (a NaN loss) cannot be drawn and are left out of the line.
 */
public final class RunCharts {
    public static final int WIDTH = 900;
    public static final int HEIGHT = 480;
    /** Opaque, distinguishable line colours (matplotlib's tab10), so overlapping lines stay readable. */
    /** Points drawn per line at most: a 900-pixel-wide chart shows no more, and drawing 20,000 took seconds. */
    static final int MAX_POINTS = 2000;
    static final java.awt.Color[] PALETTE = {
        new java.awt.Color(0x1f77b4), new java.awt.Color(0xff7f0e), new java.awt.Color(0x2ca02c), new java.awt.Color(0xd62728),
        new java.awt.Color(0x9467bd), new java.awt.Color(0x8c564b), new java.awt.Color(0xe377c2), new java.awt.Color(0x7f7f7f),
        new java.awt.Color(0xbcbd22), new java.awt.Color(0x17becf)};

    static {
        // Charts are drawn off-screen; never try to open a display (servers, CI).
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private RunCharts() {}

    /** One chart of a run: what it shows and the name of its PNG file. */
    public record Chart(String file, XYChart chart) {
        public int seriesCount() {
            return chart.getSeriesCollection().size();
        }

        /** The lines of the chart by name, in the order they were added. */
        public java.util.Map<String, XYSeries> series() {
            java.util.Map<String, XYSeries> m = new java.util.LinkedHashMap<>();
            for (XYSeries s : chart.getSeriesCollection()) m.put(s.getName(), s);
            return m;
        }
    }

    /** The charts of one run: loss (with validation loss), learning rate, tokens/s, gradient norm; only those with data. */
    public static List<Chart> forRun(Run run) {
        List<Chart> charts = new ArrayList<>();
        single(run, "loss.png", "Loss", "cross-entropy", MetricPoint.LOSS, MetricPoint.EVAL_LOSS).ifPresent(charts::add);
        single(run, "learning_rate.png", "Learning rate", "learning rate", MetricPoint.LEARNING_RATE).ifPresent(charts::add);
        single(run, "tokens_per_s.png", "Throughput", "tokens/s", MetricPoint.TOKENS_PER_S).ifPresent(charts::add);
        single(run, "grad_norm.png", "Gradient norm", "global L2 norm", MetricPoint.GRAD_NORM).ifPresent(charts::add);
        return charts;
    }

    /** One chart of {@code run} with a line per metric that was logged; empty if none was. */
    public static Optional<Chart> single(Run run, String file, String title, String yTitle, String... metrics) {
        List<Run.Series> series = new ArrayList<>();
        for (String metric : metrics) series.add(finite(metric, run.series(metric)));
        return chart(file, title + " - " + run.id(), yTitle, series);
    }

    /** {@code metric} of several runs on one chart, a line per run that logged it; empty if none did. */
    public static Optional<Chart> overlay(List<Run> runs, String metric) {
        List<Run.Series> series = new ArrayList<>();
        for (Run run : runs) series.add(finite(run.id(), run.series(metric)));
        return chart(metric + ".png", metric + " across runs", metric, series);
    }

    /**
     * A chart of the non-empty series. Values all below 0.01 (learning rates) are drawn in units of
     * a power of ten named on the axis: XChart's tick labels would round 5e-5 to "0.0001".
     */
    private static Optional<Chart> chart(String file, String title, String yTitle, List<Run.Series> all) {
        List<Run.Series> series = all.stream().filter(s -> !s.isEmpty()).toList();
        if (series.isEmpty()) return Optional.empty();
        double max = series.stream().flatMap(s -> s.values().stream()).mapToDouble(Math::abs).max().orElse(0);
        int exponent = max > 0 && max < 0.01 ? (int) Math.floor(Math.log10(max)) : 0;
        double unit = Math.pow(10, exponent);
        XYChart chart = newChart(title, exponent == 0 ? yTitle : yTitle + " (x 1e" + exponent + ")");
        for (Run.Series logged : series) {
            Run.Series s = decimate(logged, MAX_POINTS);
            List<Double> y = s.values().stream().map(v -> v / unit).toList();
            XYSeries line = chart.addSeries(s.metric(), s.steps(), y);
            line.setLineWidth(2f);
            // Markers only where points are sparse (an evaluation every N steps), else a clean line.
            line.setMarker(s.steps().size() <= 50 ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
        }
        return Optional.of(new Chart(file, chart));
    }

    public static byte[] png(XYChart chart) {
        try {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            javax.imageio.ImageIO.write(BitmapEncoder.getBufferedImage(chart), "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot render chart '" + chart.getTitle() + "': " + e.getMessage(), e);
        }
    }

    /** Renders the chart into {@code dir/chart.file()} (atomically) and returns that path. */
    public static Path write(Chart chart, Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        Path file = dir.resolve(chart.file());
        AtomicFiles.write(file, png(chart.chart()));
        return file;
    }

    private static XYChart newChart(String title, String yTitle) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("step").yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setPlotGridLinesVisible(true);
        chart.getStyler().setSeriesColors(PALETTE);
        return chart;
    }

    /**
     * At most {@code max} points of {@code s}: in each of max/2 buckets of consecutive steps its lowest
     * and highest point, in step order, so spikes (a loss blowing up at one step) stay visible.
     */
    static Run.Series decimate(Run.Series s, int max) {
        int n = s.steps().size();
        if (n <= max) return s;
        java.util.TreeSet<Integer> keep = new java.util.TreeSet<>(List.of(0, n - 1)); // the line spans the whole run
        int buckets = (max - 2) / 2;
        for (int b = 0; b < buckets; b++) {
            int from = (int) ((long) b * n / buckets);
            int to = (int) ((long) (b + 1) * n / buckets);
            int lo = from;
            int hi = from;
            for (int i = from; i < to; i++) {
                if (s.values().get(i) < s.values().get(lo)) lo = i;
                if (s.values().get(i) > s.values().get(hi)) hi = i;
            }
            keep.add(lo);
            keep.add(hi);
        }
        List<Double> x = new ArrayList<>(keep.size());
        List<Double> y = new ArrayList<>(keep.size());
        for (int i : keep) {
            x.add(s.steps().get(i));
            y.add(s.values().get(i));
        }
        return new Run.Series(s.metric(), x, y);
    }

    /** The series under {@code name} without its NaN and infinite points, which cannot be drawn. */
    private static Run.Series finite(String name, Run.Series s) {
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (int i = 0; i < s.steps().size(); i++) {
            double v = s.values().get(i);
            if (Double.isFinite(v)) {
                x.add(s.steps().get(i));
                y.add(v);
            }
        }
        return new Run.Series(name, x, y);
    }
}
