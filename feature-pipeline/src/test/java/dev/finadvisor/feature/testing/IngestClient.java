package dev.finadvisor.feature.testing;

import dev.finadvisor.domain.config.ConfigLoader;
import dev.finadvisor.domain.config.Secrets;
import dev.finadvisor.feature.Ingest;
import dev.finadvisor.feature.IngestConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * An ingest client in a JVM of its own, so a test can kill it with SIGKILL: streams from the fake Alpaca at the given
 * URLs into STORE on the cluster at MASTER. Usage: IngestClient MASTER STORE REST_URL STREAM_URL [--set KEY=VALUE ...].
 */
public final class IngestClient {
    private IngestClient() {}

    public static void main(String[] args) throws Exception {
        List<String> sets = new ArrayList<>(List.of("store.path=" + args[1], "alpaca.rest_url=" + args[2], "alpaca.stream_url=" + args[3],
                "flink.checkpoint_interval_ms=500", "sink.metrics_log_interval_s=1", "alpaca.backoff_initial_ms=50", "alpaca.backoff_max_ms=400"));
        for (int i = 4; i + 1 < args.length; i += 2) sets.add(args[i + 1]);
        IngestConfig config = new ConfigLoader().load(IngestConfig.class, IngestConfig.DEFAULTS, null, sets).value();
        Secrets keys = new Secrets(Map.of(Secrets.ALPACA_API_KEY, FakeAlpaca.KEY, Secrets.ALPACA_API_SECRET, FakeAlpaca.SECRET));
        Ingest.run(new Ingest.Request(Ingest.Source.ALPACA_STREAM, null, null, null, List.of(), null, args[0], false, false),
                config, keys, new CompletableFuture<>());
    }

    /** Starts one with this JVM's classpath, its output in {@code log}. */
    public static Process start(Path log, String master, Path store, FakeAlpaca alpaca) throws java.io.IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), IngestClient.class.getName(), master, store.toString(),
                alpaca.settings().restUrl().toString(), alpaca.settings().streamUrl().toString()));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }
}
