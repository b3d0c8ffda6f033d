package dev.finadvisor.app;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.config.ConfigLoader;
import dev.finadvisor.domain.config.Secrets;
import dev.finadvisor.inference.AdvisorRuntime;
import dev.finadvisor.llm.hub.ModelLocator;
import dev.finadvisor.inference.PromptLog;
import dev.finadvisor.inference.ServeConfig;
import dev.finadvisor.inference.ServedAdapter;
import dev.finadvisor.inference.server.AdvisorServer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Serves the advisor: REST, SSE and OpenAI-compatible API over the model, its adapter and the news store. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve the investing advisor over HTTP: POST /v1/advice (JSON), /v1/advice/stream (SSE),"
                + " OpenAI-compatible /v1/chat/completions and /v1/models, /v1/runs[/{id}], /v1/registry, /v1/news[/search], /health, /ready, /metrics,"
                + " /openapi.json and web pages at / (advisor chat), /training and /news.",
                "Keys from FINADVISOR_API_KEYS (comma-separated) are required as 'Authorization: Bearer KEY' when set."})
final class ServeCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Option(names = "--model", required = true, paramLabel = "PATH_OR_ID",
            description = "Base checkpoint: a Hugging Face folder, or a hub id org/name[@revision] (fetched once into the model cache, as by generate; HF_HUB_OFFLINE=1: cache only).")
    String model;

    @Option(names = "--adapter", paramLabel = "[NAME=]DIR|registry:NAME@ALIAS",
            description = "LoRA adapter applied to the model: a PEFT folder, registry:NAME@ALIAS or registry:NAME:VERSION. Repeat it to serve several adapters on one copy of the base, all unmerged and decoded in the same batches; a request picks one by NAME (`adapter` in /v1/advice, `model` in /v1/chat/completions; GET /v1/models lists them and the base); the first --adapter is the default. One adapter alone is folded into fp32 weights (beside bf16/int8/nf4 ones). Default: the base model alone.")
    List<String> adapters = new ArrayList<>();

    @Option(names = "--registry", paramLabel = "DIR",
            description = "Model registry folder for registry: references and the Training page (sets pages.registry; default registry).")
    Path registry;

    @Option(names = "--runs-dir", paramLabel = "DIR",
            description = "Training runs folder the Training page shows (sets pages.runs_dir; default runs).")
    Path runsDir;

    @Option(names = "--weights", paramLabel = "FORMAT",
            description = "How the model's weights are held: fp32, bf16, int8 (a scale per 64 weights), nf4 (QLoRA's 4-bit, a scale per 64) or auto, the checkpoint's own precision (sets model.weights; default auto: bf16 stays bf16). An adapter on bf16/int8/nf4 weights is applied unmerged.")
    String weights;

    @Option(names = "--store", paramLabel = "DIR", description = "Lucene news index to retrieve from (sets store.type=lucene, store.path; default: from the configuration, data/vector-store).")
    Path store;

    @Option(names = "--port", paramLabel = "PORT", description = "Port to listen on (sets server.port; default 8080; 0 picks a free one).")
    Integer port;

    @Option(names = "--host", paramLabel = "HOST", description = "Address to listen on (sets server.host; default 127.0.0.1, 0.0.0.0 for every interface).")
    String host;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        List<String> sets = new ArrayList<>();
        if (store != null) {
            sets.add("store.type=lucene");
            sets.add("store.path=" + store);
        }
        if (weights != null) sets.add("model.weights=" + weights);
        if (port != null) sets.add("server.port=" + port);
        if (host != null) sets.add("server.host=" + host);
        if (registry != null) sets.add("pages.registry=" + registry);
        if (runsDir != null) sets.add("pages.runs_dir=" + runsDir);
        sets.addAll(config.overrides); // explicit --set wins over the shorthand options
        ServeConfig cfg = new ConfigLoader().load(ServeConfig.class, ServeConfig.DEFAULTS, config.file, sets).value();

        // Everything that can be wrong with the arguments fails here, before the port opens.
        Path checkpoint = ModelLocator.fromEnvironment().resolve(model);
        List<ServedAdapter.Named> served = new ArrayList<>();
        java.util.Set<String> names = new java.util.HashSet<>(List.of(checkpoint.getFileName().toString()));
        for (String a : adapters) {
            ServedAdapter.Named named = ServedAdapter.resolveNamed(a, Path.of(cfg.pages().registry()));
            if (named.name() != null && !names.add(named.name())) {
                throw new UserError("--adapter " + a + ": the name '" + named.name() + "' is taken (by another adapter or the base model)");
            }
            served.add(named);
        }
        if (served.isEmpty()) ServedAdapter.chooseTemplate(cfg.generation().template(), null);
        for (ServedAdapter.Named a : served) ServedAdapter.chooseTemplate(cfg.generation().template(), a.adapter());
        var logCfg = cfg.prompt_log();
        PromptLog promptLog = logCfg.path() == null || logCfg.path().isBlank() ? null
                : new PromptLog(Path.of(logCfg.path()), logCfg.max_bytes(), logCfg.keep_files(), logCfg.redact(), AdvisorServer.mapper());

        PrintWriter out = spec.commandLine().getOut();
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                stopped.await(15, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        boolean interrupted = false;
        try (AdvisorServer server = new AdvisorServer(cfg, Secrets.fromEnvironment(), promptLog, Clock.systemUTC())) {
            int bound = server.start();
            out.printf("listening on http://%s:%d (GET /ready turns 200 once the model and store are loaded)%n", cfg.server().host(), bound);
            out.flush();
            try (AdvisorRuntime runtime = AdvisorRuntime.load(cfg, checkpoint, served, Clock.systemUTC())) {
                server.ready(runtime.models());
                out.printf("ready: %s, template %s; prompt log %s%n", String.join(", ", runtime.models().names()),
                        runtime.models().byDefault().templateName(), promptLog == null ? "off" : promptLog.file());
                out.flush();
                try {
                    stop.await();
                } catch (InterruptedException e) {
                    interrupted = true; // a stop request like SIGTERM: close first, then restore the flag
                }
            }
        } finally {
            stopped.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down: the hook is running
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        return 0;
    }
}
