package dev.finadvisor.domain.runs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Runs and the registry as JSON, one shape for every reader: {@code runs list|show --json}, {@code registry list|show
 * --json} and the server's {@code /v1/runs} and {@code /v1/registry} routes.
 */
public final class RunsJson {
    private RunsJson() {}

    public static ArrayNode list(RunStore.Listing listing) {
        ArrayNode out = RunJson.MAPPER.createArrayNode();
        for (Run r : listing.runs()) out.add(summary(r));
        return out;
    }

    /** A run in a line: status, when, how far, final metrics, what it trained. */
    public static ObjectNode summary(Run r) {
        ObjectNode o = RunJson.MAPPER.createObjectNode();
        o.put("id", r.id());
        o.put("status", r.status().json());
        if (r.statusNote() != null) o.put("status_note", r.statusNote());
        o.put("started_at", String.valueOf(r.info().startedAt()));
        if (r.info().endedAt() != null) o.put("ended_at", r.info().endedAt().toString());
        o.put("duration_s", r.duration(Instant.now()).toMillis() / 1000.0);
        o.put("steps", r.metrics().size());
        if (!r.metrics().isEmpty()) o.put("last_step", r.metrics().get(r.metrics().size() - 1).step());
        o.set("final_metrics", RunJson.MAPPER.valueToTree(finals(r)));
        if (r.info().baseModel() != null) o.set("base_model", RunJson.MAPPER.valueToTree(r.info().baseModel()));
        if (r.info().dataset() != null) o.set("dataset", RunJson.MAPPER.valueToTree(r.info().dataset()));
        o.put("git_commit", r.info().gitCommit());
        o.put("dir", r.layout().dir().toString());
        return o;
    }

    /** A run in full: its summary, run.json, every logged step and what was read around. */
    public static ObjectNode show(Run r) {
        ObjectNode out = summary(r);
        out.set("run", RunJson.MAPPER.valueToTree(r.info()));
        ArrayNode metrics = out.putArray("metrics");
        for (MetricPoint p : r.metrics()) {
            try {
                metrics.add(RunJson.MAPPER.readTree(p.toJsonLine()));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        ArrayNode warnings = out.putArray("warnings");
        r.warnings().forEach(warnings::add);
        return out;
    }

    /** Final metrics of run.json, or the last logged values while a run has not ended. */
    public static Map<String, Double> finals(Run r) {
        if (!r.info().finalMetrics().isEmpty()) return r.info().finalMetrics();
        Map<String, Double> last = new LinkedHashMap<>();
        for (MetricPoint p : r.metrics()) last.putAll(p.values());
        last.remove(MetricPoint.ELAPSED_S);
        return last;
    }

    /** Every model in the registry: its versions and aliases. */
    public static ArrayNode registry(Registry registry) {
        ArrayNode out = RunJson.MAPPER.createArrayNode();
        for (String name : registry.names()) {
            ObjectNode o = out.addObject();
            o.put("name", name);
            ArrayNode versions = o.putArray("versions");
            registry.versionNumbers(name).forEach(versions::add);
            o.set("aliases", RunJson.MAPPER.valueToTree(registry.aliases(name)));
        }
        return out;
    }

    /** One model with every version in full (run, base model, dataset, metrics) and its aliases. */
    public static ObjectNode model(Registry registry, String name) {
        ObjectNode o = RunJson.MAPPER.createObjectNode();
        o.put("name", name);
        o.set("aliases", RunJson.MAPPER.valueToTree(registry.aliases(name)));
        o.set("versions", RunJson.MAPPER.valueToTree(registry.versions(name)));
        return o;
    }

    public static ObjectNode version(RegisteredAdapter a) {
        ObjectNode o = RunJson.MAPPER.valueToTree(a.model());
        o.put("adapter_dir", a.adapterDir().toString());
        return o;
    }
}
