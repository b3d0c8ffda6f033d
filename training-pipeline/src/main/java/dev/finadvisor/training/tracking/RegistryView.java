package dev.finadvisor.training.tracking;

import dev.finadvisor.domain.runs.ModelVersion;
import dev.finadvisor.domain.runs.RegisteredAdapter;
import dev.finadvisor.domain.runs.Registry;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** What {@code registry list | show} print: terminal tables (their JSON is {@link dev.finadvisor.domain.runs.RunsJson}'s). */
public final class RegistryView {
    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneOffset.UTC);

    private RegistryView() {}

    public static String list(Registry registry) {
        List<String> names = registry.names();
        if (names.isEmpty()) return "no models in " + registry.layout().root() + "\n";
        TextTable t = new TextTable("MODEL", "VERSIONS", "LATEST", "ALIASES");
        for (String name : names) {
            List<Integer> versions = registry.versionNumbers(name);
            t.row(name, Integer.toString(versions.size()), versions.isEmpty() ? "-" : Integer.toString(versions.get(versions.size() - 1)),
                    aliasText(registry.aliases(name)));
        }
        return t.toString();
    }

    /** Every version of one model with its run, headline metrics and aliases. */
    public static String model(Registry registry, String name) {
        Map<String, Integer> aliases = registry.aliases(name);
        TextTable t = new TextTable("VERSION", "CREATED (UTC)", "RUN", "LOSS", "EVAL_LOSS", "BASE MODEL", "ALIASES");
        for (ModelVersion m : registry.versions(name)) {
            t.row(Integer.toString(m.version()), m.createdAt() == null ? "-" : WHEN.format(m.createdAt()), m.runId(),
                    metric(m, "loss"), metric(m, "eval_loss"), m.baseModel() == null ? "-" : java.nio.file.Path.of(m.baseModel().path()).getFileName().toString(),
                    aliases.entrySet().stream().filter(e -> e.getValue() == m.version()).map(Map.Entry::getKey).collect(Collectors.joining(",")));
        }
        return t.toString();
    }

    /** One version in full: where its adapter is, what it applies to, where it came from, its numbers. */
    public static String version(RegisteredAdapter a) {
        ModelVersion m = a.model();
        TextTable t = new TextTable("FIELD", "VALUE");
        t.row("model", m.name() + ":" + m.version());
        t.row("created", String.valueOf(m.createdAt()));
        t.row("adapter", a.adapterDir() + (m.adapter() == null ? "" : " (sha256 " + m.adapter().sha256() + ")"));
        t.row("base model", m.baseModel().path() + " (sha256 " + m.baseModel().sha256() + ")");
        if (m.dataset() != null) t.row("dataset", m.dataset().path() + " (sha256 " + m.dataset().sha256() + ")");
        t.row("run", m.runId() + " (" + m.runDir() + ")");
        t.row("git commit", String.valueOf(m.gitCommit()));
        StringBuilder sb = new StringBuilder(t.toString());
        if (!m.metrics().isEmpty()) {
            TextTable f = new TextTable("METRIC", "VALUE");
            m.metrics().forEach((k, v) -> f.row(k, RunsView.number(v)));
            sb.append('\n').append(f);
        }
        return sb.toString();
    }

    private static String metric(ModelVersion m, String name) {
        Double v = m.metrics().get(name);
        return v == null ? "-" : RunsView.number(v);
    }

    private static String aliasText(Map<String, Integer> aliases) {
        if (aliases.isEmpty()) return "-";
        return aliases.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "));
    }
}
