package dev.finadvisor.inference.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.runs.Registry;
import dev.finadvisor.domain.runs.RunJson;
import dev.finadvisor.domain.runs.RunStore;
import dev.finadvisor.domain.runs.RunsJson;
import dev.finadvisor.inference.AdviceChain;
import dev.finadvisor.inference.ServedModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Training runs and the model registry as the API shows them ({@code /v1/runs}, {@code /v1/registry}): the same JSON
 * as {@code runs list|show --json} and {@code registry show --json}, read from disk on each request.
 */
final class TrainingRecords {
    private static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");
    /** A served adapter's id when it came from the registry: {@code NAME:VERSION} and maybe {@code (@ALIAS)}. */
    private static final Pattern REGISTERED = Pattern.compile("(.+):(\\d+)(?: \\(@(.+)\\))?");

    private final RunStore runs;
    private final Registry registry;

    TrainingRecords(Path runsDir, Path registryDir) {
        this.runs = new RunStore(runsDir);
        this.registry = new Registry(registryDir);
    }

    /** Every run, oldest first, with the folders that could not be read. */
    ObjectNode runs() {
        ObjectNode out = RunJson.MAPPER.createObjectNode();
        out.put("runs_dir", runs.dir().toAbsolutePath().toString());
        try {
            RunStore.Listing listing = runs.list();
            out.set("runs", RunsJson.list(listing));
            ArrayNode problems = out.putArray("problems");
            listing.problems().forEach(problems::add);
        } catch (UserError e) {
            throw new ApiException(500, "server_error", null, e.getMessage());
        }
        return out;
    }

    /** One run in full (every logged step: the charts' data); only a folder directly under the runs folder. */
    ObjectNode run(String id) {
        if (!RUN_ID.matcher(id).matches() || !Files.isDirectory(runs.dir().resolve(id))) {
            throw new ApiException(404, "not_found", "id", "no run '" + id + "' in " + runs.dir().toAbsolutePath() + "; GET /v1/runs lists them");
        }
        try {
            return RunsJson.show(RunStore.readDir(runs.dir().resolve(id)));
        } catch (UserError e) { // a folder that is not a readable run
            throw new ApiException(404, "not_found", "id", e.getMessage());
        }
    }

    /** Every registered model with its versions and aliases (and the ones that could not be read), and what is served. */
    ObjectNode registry(ServedModels served) {
        ObjectNode out = RunJson.MAPPER.createObjectNode();
        out.put("registry", registry.layout().root().toAbsolutePath().toString());
        ArrayNode models = out.putArray("models");
        ArrayNode problems = out.putArray("problems");
        for (String name : registry.names()) {
            try {
                models.add(RunsJson.model(registry, name));
            } catch (UserError e) { // one unreadable model does not hide the others
                problems.add(e.getMessage());
            }
        }
        ArrayNode serving = out.putArray("served");
        for (AdviceChain c : served == null ? List.<AdviceChain>of() : served.all()) {
            ObjectNode s = serving.addObject();
            s.put("id", c.servedModelName());
            s.put("adapter", c.adapterId());
            Matcher m = c.adapterId() == null ? null : REGISTERED.matcher(c.adapterId());
            if (m != null && m.matches()) {
                s.put("registry_model", m.group(1));
                s.put("version", Integer.parseInt(m.group(2)));
                if (m.group(3) != null) s.put("alias", m.group(3));
            }
        }
        return out;
    }
}
