package dev.finadvisor.training.tracking;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.runs.FileRef;
import dev.finadvisor.domain.runs.MachineFacts;
import dev.finadvisor.domain.runs.MetricPoint;
import dev.finadvisor.domain.runs.Run;
import dev.finadvisor.domain.runs.RunInfo;
import dev.finadvisor.domain.runs.RunJson;
import dev.finadvisor.domain.runs.RunStore;
import dev.finadvisor.domain.runs.RunsJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/** What {@code runs list | show | compare} print: terminal tables (their JSON is {@link RunsJson}'s). */
public final class RunsView {
    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneOffset.UTC);
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    /** The metrics shown as columns of the list and rows of a comparison, before any others. */
    static final List<String> HEADLINE = List.of(MetricPoint.LOSS, MetricPoint.EVAL_LOSS, MetricPoint.PERPLEXITY, MetricPoint.TOKENS_PER_S);

    private RunsView() {}

    public static String list(RunStore.Listing listing) {
        if (listing.runs().isEmpty()) return "no runs\n";
        TextTable t = new TextTable("RUN", "STATUS", "STARTED (UTC)", "DURATION", "STEPS", "LOSS", "EVAL_LOSS", "BASE MODEL");
        Instant now = Instant.now();
        for (Run r : listing.runs()) {
            t.row(r.id(), r.status().json(), r.info().startedAt() == null ? "-" : WHEN.format(r.info().startedAt()),
                    duration(r.duration(now)), lastStep(r), metric(r, MetricPoint.LOSS), metric(r, MetricPoint.EVAL_LOSS),
                    r.info().baseModel() == null ? "-" : Path.of(r.info().baseModel().path()).getFileName().toString());
        }
        return t.toString();
    }

    public static String show(Run r) {
        RunInfo info = r.info();
        StringBuilder sb = new StringBuilder();
        TextTable t = new TextTable("FIELD", "VALUE");
        t.row("run", r.id());
        t.row("status", r.status().json() + (r.statusNote() == null ? "" : " (" + r.statusNote() + ")"));
        t.row("started", String.valueOf(info.startedAt()));
        t.row("ended", r.endedAt() == null ? "-" : r.endedAt() + (info.endedAt() == null ? " (last seen)" : ""));
        t.row("duration", duration(r.duration(Instant.now())));
        t.row("steps", r.metrics().size() + " logged, last " + lastStep(r));
        t.row("base model", ref(info.baseModel()));
        t.row("dataset", ref(info.dataset()));
        t.row("git commit", info.gitCommit() + (Boolean.TRUE.equals(info.gitDirty()) ? " (uncommitted changes)" : ""));
        MachineFacts m = info.machine();
        if (m != null) {
            t.row("machine", m.host() + ", " + m.cores() + " cores, " + bytes(m.memoryBytes()) + ", " + m.os() + " " + m.arch());
            t.row("engine", m.engine() + " on " + m.device() + ", Java " + m.java());
        }
        t.row("folder", r.layout().dir().toString());
        sb.append(t);
        Map<String, Double> finals = RunsJson.finals(r);
        if (!finals.isEmpty()) {
            TextTable f = new TextTable("METRIC", "FINAL");
            finals.forEach((k, v) -> f.row(k, number(v)));
            sb.append('\n').append(f);
        }
        if (!info.artifacts().isEmpty()) {
            TextTable a = new TextTable("ARTIFACT", "PATH", "SIZE", "SHA256");
            info.artifacts().forEach((k, v) -> a.row(k, v.path(), bytes(v.bytes()), v.sha256().substring(0, Math.min(12, v.sha256().length()))));
            sb.append('\n').append(a);
        }
        for (String w : r.warnings()) sb.append("\nwarning: ").append(w);
        if (!r.warnings().isEmpty()) sb.append('\n');
        return sb.toString();
    }

    /** Runs side by side: status, identity, every configuration key whose value differs, final metrics. */
    public static String compare(List<Run> runs) {
        List<String> header = new ArrayList<>();
        header.add("");
        runs.forEach(r -> header.add(r.id()));
        TextTable t = new TextTable(header);
        t.row(cells("status", runs, r -> r.status().json()));
        t.row(cells("duration", runs, r -> duration(r.duration(Instant.now()))));
        t.row(cells("steps", runs, RunsView::lastStep));
        t.row(cells("base model", runs, r -> shortRef(r.info().baseModel())));
        t.row(cells("dataset", runs, r -> shortRef(r.info().dataset())));
        t.row(cells("git commit", runs, r -> r.info().gitCommit() == null ? "-" : r.info().gitCommit().substring(0, Math.min(10, r.info().gitCommit().length()))));
        for (Map.Entry<String, List<String>> e : configDifferences(runs).entrySet()) {
            List<String> row = new ArrayList<>();
            row.add(e.getKey());
            row.addAll(e.getValue());
            t.row(row);
        }
        for (String metric : metricNames(runs)) t.row(cells(metric, runs, r -> metric(r, metric)));
        return t.toString();
    }

    public static ObjectNode compareJson(List<Run> runs) {
        ObjectNode out = RunJson.MAPPER.createObjectNode();
        ArrayNode list = out.putArray("runs");
        runs.forEach(r -> list.add(RunsJson.summary(r)));
        ObjectNode diff = out.putObject("config_differences");
        configDifferences(runs).forEach((k, values) -> {
            ArrayNode a = diff.putArray(k);
            values.forEach(a::add);
        });
        return out;
    }

    /** Dotted configuration keys whose values are not the same in every run ("-" where a run lacks the key). */
    static Map<String, List<String>> configDifferences(List<Run> runs) {
        List<Map<String, String>> flat = new ArrayList<>();
        Set<String> keys = new LinkedHashSet<>();
        for (Run r : runs) {
            Map<String, String> m = new LinkedHashMap<>();
            flatten("", readConfig(r.layout().config()), m);
            flat.add(m);
            keys.addAll(m.keySet());
        }
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (String k : keys) {
            List<String> values = flat.stream().map(m -> m.getOrDefault(k, "-")).toList();
            if (values.stream().distinct().count() > 1) out.put(k, values);
        }
        return out;
    }

    private static JsonNode readConfig(Path file) {
        try {
            JsonNode node = YAML.readTree(Files.readAllBytes(file));
            return node == null ? YAML.createObjectNode() : node;
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": missing (every run folder has its resolved configuration)");
        } catch (JsonProcessingException e) {
            var loc = e.getLocation();
            throw new UserError(file + (loc == null ? "" : " line " + loc.getLineNr() + " column " + loc.getColumnNr())
                    + ": not valid YAML: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UserError(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
        if (node.isObject()) {
            for (var e : node.properties()) flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out);
        } else {
            out.put(prefix.isEmpty() ? "(config)" : prefix, node.isValueNode() ? node.asText() : node.toString());
        }
    }

    private static List<String> metricNames(List<Run> runs) {
        Set<String> names = new LinkedHashSet<>(HEADLINE);
        for (Run r : runs) names.addAll(RunsJson.finals(r).keySet());
        names.remove(MetricPoint.ELAPSED_S);
        return names.stream().filter(n -> runs.stream().anyMatch(r -> r.last(n).isPresent())).toList();
    }

    private interface Cell {
        String of(Run r);
    }

    private static List<String> cells(String label, List<Run> runs, Cell cell) {
        List<String> row = new ArrayList<>();
        row.add(label);
        for (Run r : runs) row.add(Objects.requireNonNullElse(cell.of(r), "-"));
        return row;
    }

    private static String metric(Run r, String name) {
        return r.last(name).map(RunsView::number).orElse("-");
    }

    private static String lastStep(Run r) {
        return r.metrics().isEmpty() ? "-" : Long.toString(r.metrics().get(r.metrics().size() - 1).step());
    }

    private static String ref(FileRef ref) {
        return ref == null ? "-" : ref.path() + " (" + bytes(ref.bytes()) + ", sha256 " + ref.sha256().substring(0, Math.min(12, ref.sha256().length())) + ")";
    }

    private static String shortRef(FileRef ref) {
        if (ref == null) return "-";
        return Path.of(ref.path()).getFileName() + " " + ref.sha256().substring(0, Math.min(8, ref.sha256().length()));
    }

    /** A number for people: 4 significant digits, no exponent for ordinary magnitudes. */
    public static String number(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) return Double.toString(v);
        double a = Math.abs(v);
        if (a == 0) return "0";
        if (a >= 1000) return String.format(Locale.ROOT, "%.0f", v);
        if (a >= 0.01) return stripZeros(String.format(Locale.ROOT, "%.4g", v));
        return String.format(Locale.ROOT, "%.3e", v);
    }

    private static String stripZeros(String s) {
        if (!s.contains(".") || s.contains("e")) return s;
        s = s.replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }

    static String duration(Duration d) {
        long s = Math.max(0, d.toSeconds());
        if (s < 60) return s + " s";
        if (s < 3600) return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }

    static String bytes(long n) {
        if (n < 0) return "?";
        if (n < 1024) return n + " B";
        if (n < 1024 * 1024) return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        if (n < 1024L * 1024 * 1024) return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
        return String.format(Locale.ROOT, "%.1f GiB", n / (1024.0 * 1024 * 1024));
    }
}
