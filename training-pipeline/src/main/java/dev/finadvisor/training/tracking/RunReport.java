package dev.finadvisor.training.tracking;

import dev.finadvisor.domain.runs.AtomicFiles;
import dev.finadvisor.domain.runs.FileRef;
import dev.finadvisor.domain.runs.MachineFacts;
import dev.finadvisor.domain.runs.Run;
import dev.finadvisor.domain.runs.RunInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * A run's report: {@code report/report.html}, one self-contained page (charts embedded as PNG data,
 * no scripts, no network) with the run's identity, final numbers, configuration and artifacts, and
 * the charts beside it as PNG files.
 */
public final class RunReport {
    private RunReport() {}

    /** Writes the report into the run's {@code report/} folder and returns the HTML file. */
    public static Path write(Run run) {
        Path dir = run.layout().reportDir();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        List<RunCharts.Chart> charts = RunCharts.forRun(run);
        StringBuilder images = new StringBuilder();
        for (RunCharts.Chart chart : charts) {
            byte[] png = RunCharts.png(chart.chart());
            AtomicFiles.write(dir.resolve(chart.file()), png);
            images.append("<figure><img alt=\"").append(esc(chart.chart().getTitle())).append("\" width=\"").append(RunCharts.WIDTH)
                    .append("\" height=\"").append(RunCharts.HEIGHT).append("\" style=\"max-width:100%;height:auto\" src=\"data:image/png;base64,")
                    .append(Base64.getEncoder().encodeToString(png)).append("\"></figure>\n");
        }
        Path html = run.layout().reportHtml();
        AtomicFiles.write(html, html(run, images.toString(), charts.isEmpty()).getBytes(StandardCharsets.UTF_8));
        return html;
    }

    static String html(Run run, String images, boolean noCharts) {
        RunInfo info = run.info();
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Run ").append(esc(run.id())).append("</title>\n")
                .append("<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1000px;color:#222}"
                        + "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:left;vertical-align:top}"
                        + "th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}"
                        + ".status{font-weight:bold}.finished{color:#17702a}.failed,.killed{color:#b00020}.running{color:#a15c00}"
                        + "pre{background:#f7f7f7;padding:1em;overflow:auto}figure{margin:1em 0}code{font-size:90%}</style></head><body>\n");
        sb.append("<h1>Run ").append(esc(run.id())).append("</h1>\n");
        sb.append("<p class=\"status ").append(run.status().json()).append("\">").append(run.status().json());
        if (run.statusNote() != null) sb.append(": ").append(esc(run.statusNote()));
        sb.append("</p>\n");

        sb.append("<h2>Final numbers</h2>\n");
        Map<String, Double> finals = info.finalMetrics();
        if (finals.isEmpty()) {
            sb.append("<p>No metrics were recorded.</p>\n");
        } else {
            sb.append("<table><tr><th>metric</th><th>value</th></tr>\n");
            finals.forEach((k, v) -> sb.append("<tr><td>").append(esc(k)).append("</td><td class=\"num\">").append(esc(RunsView.number(v))).append("</td></tr>\n"));
            sb.append("</table>\n");
        }
        sb.append("<p>").append(run.metrics().size()).append(" logged steps").append(run.metrics().isEmpty() ? "" : ", last step "
                + run.metrics().get(run.metrics().size() - 1).step()).append(".</p>\n");

        sb.append("<h2>Charts</h2>\n").append(noCharts ? "<p>No loss, learning rate, throughput or gradient norm was logged.</p>\n" : images);

        sb.append("<h2>Identity</h2>\n<table>\n");
        row(sb, "started", String.valueOf(info.startedAt()));
        row(sb, "ended", info.endedAt() == null ? "-" : info.endedAt().toString());
        row(sb, "duration", RunsView.duration(info.duration(Instant.now())));
        row(sb, "base model", ref(info.baseModel()));
        row(sb, "dataset", ref(info.dataset()));
        row(sb, "git commit", info.gitCommit() + (Boolean.TRUE.equals(info.gitDirty()) ? " (with uncommitted changes)" : ""));
        MachineFacts m = info.machine();
        if (m != null) {
            row(sb, "machine", m.host() + ": " + m.cores() + " cores, " + RunsView.bytes(m.memoryBytes()) + " memory, " + m.os() + " " + m.arch());
            row(sb, "java", m.java() + ", max heap " + RunsView.bytes(m.maxHeapBytes()));
            row(sb, "engine", m.engine() + " on " + m.device());
        }
        if (info.process() != null) row(sb, "process", "pid " + info.process().pid() + " on " + info.process().host());
        row(sb, "folder", run.layout().dir().toAbsolutePath().normalize().toString());
        sb.append("</table>\n");

        if (!info.artifacts().isEmpty()) {
            sb.append("<h2>Artifacts</h2>\n<table><tr><th>name</th><th>path</th><th>size</th><th>sha256</th></tr>\n");
            info.artifacts().forEach((k, v) -> sb.append("<tr><td>").append(esc(k)).append("</td><td><code>").append(esc(v.path()))
                    .append("</code></td><td class=\"num\">").append(RunsView.bytes(v.bytes())).append("</td><td><code>").append(esc(v.sha256())).append("</code></td></tr>\n"));
            sb.append("</table>\n");
        }

        sb.append("<h2>Configuration</h2>\n<pre>").append(esc(config(run))).append("</pre>\n");
        if (!run.warnings().isEmpty()) {
            sb.append("<h2>Warnings</h2>\n<ul>\n");
            for (String w : run.warnings()) sb.append("<li>").append(esc(w)).append("</li>\n");
            sb.append("</ul>\n");
        }
        sb.append("<p><small>Generated ").append(Instant.now()).append(" by finadvisor from ").append(esc(run.layout().dir().toString()))
                .append(".</small></p>\n</body></html>\n");
        return sb.toString();
    }

    private static String config(Run run) {
        try {
            return Files.readString(run.layout().config(), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return "(" + run.layout().config() + " is missing)";
        } catch (IOException e) {
            return "(" + run.layout().config() + " cannot be read: " + e.getMessage() + ")";
        }
    }

    private static String ref(FileRef ref) {
        return ref == null ? "-" : ref.path() + " (" + RunsView.bytes(ref.bytes()) + ", sha256 " + ref.sha256() + ")";
    }

    private static void row(StringBuilder sb, String key, String value) {
        sb.append("<tr><th>").append(esc(key)).append("</th><td>").append(esc(value)).append("</td></tr>\n");
    }

    /** {@code s} as HTML text (null: empty). */
    public static String esc(String s) {
        if (s == null) return "";
        StringBuilder out = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
