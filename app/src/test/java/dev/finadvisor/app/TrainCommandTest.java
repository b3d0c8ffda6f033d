package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.finadvisor.domain.runs.Sha256;
import dev.finadvisor.llm.RandomCheckpoint;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {
    @TempDir Path dir;

    @Test
    void trainThenGenerateWithTheAdapterEqualsGenerateWithTheExportedMerge() throws Exception {
        Path model = RandomCheckpoint.tiny("llama").write(dir.resolve("llama"));
        Path data = Files.writeString(dir.resolve("train.json"), """
                [{"about_me": "I am 30.", "context": "Apple rose.", "question": "Buy?", "response": "Buy index funds."},
                 {"about_me": "I am 40.", "context": "Tesla fell.", "question": "Sell?", "response": "Hold for now."},
                 {"about_me": "I am 50.", "context": "Rates rose.", "question": "Bonds?", "response": "Keep some cash."}]""");
        Path config = Files.writeString(dir.resolve("train.yaml"), """
                model: {template: falcon, max_seq_length: 256}
                data: {validation_fraction: 0}
                lora: {r: 4, alpha: 8, dropout: 0.0, target_modules: [q_proj, v_proj, up_proj]}
                training: {learning_rate: 0.05, max_steps: 4, gradient_accumulation_steps: 1, save_steps: 2, logging_steps: 1}
                """);
        Path runs = dir.resolve("runs");
        MainTest.Result r = MainTest.run("train", "--config", config.toString(), "--set", "model.id=" + model,
                "--set", "data.train=" + data, "--set", "output_dir=" + runs);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("done: 4 steps").contains("adapter in");
        Path runDir;
        try (var s = Files.list(runs)) {
            runDir = s.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith(".")).findFirst().orElseThrow();
        }
        Path adapter = runDir.resolve("adapter");
        assertThat(adapter.resolve("adapter_config.json")).exists();

        MainTest.Result viaAdapter = MainTest.run("generate", "--model", model.toString(), "--adapter", adapter.toString(),
                "--prompt", "The stock market", "--max-new-tokens", "8", "--json");
        assertThat(viaAdapter.code()).as(viaAdapter.err()).isZero();
        MainTest.Result base = MainTest.run("generate", "--model", model.toString(), "--prompt", "The stock market", "--max-new-tokens", "8", "--json");
        MainTest.Result export = MainTest.run("export", "--model", model.toString(), "--adapter", adapter.toString(), "--out", dir.resolve("merged").toString());
        assertThat(export.code()).as(export.err()).isZero();
        MainTest.Result viaMerged = MainTest.run("generate", "--model", dir.resolve("merged").toString(), "--prompt", "The stock market",
                "--max-new-tokens", "8", "--json");
        ObjectMapper json = new ObjectMapper();
        var adapted = json.readTree(viaAdapter.out()).get("generated_ids");
        assertThat(json.readTree(viaMerged.out()).get("generated_ids")).isEqualTo(adapted);
        assertThat(json.readTree(base.out()).get("generated_ids")).isNotEqualTo(adapted); // the adapter changed the model
    }

    @Test
    void aTrainKilledWithSigkillIsResumedToFinishedAndPushedToTheRegistry() throws Exception {
        Path model = RandomCheckpoint.tiny("llama").write(dir.resolve("llama"));
        Path data = Files.writeString(dir.resolve("train.json"), """
                [{"about_me": "I am 30.", "context": "Apple rose.", "question": "\\nBuy?", "response": "\\nBuy index funds."},
                 {"about_me": "I am 40.", "context": "Tesla fell.", "question": "\\nSell?", "response": "\\nHold for now."}]""");
        Path runs = dir.resolve("runs");
        List<String> args = List.of("train", "--set", "model.id=" + model, "--set", "data.train=" + data, "--set", "output_dir=" + runs,
                "--set", "data.validation_fraction=0", "--set", "lora.r=2", "--set", "lora.target_modules=[q_proj]",
                "--set", "model.max_seq_length=256", "--set", "training.save_steps=2", "--set", "training.logging_steps=1",
                "--set", "training.gradient_accumulation_steps=1");
        List<String> command = new ArrayList<>(args);
        command.addAll(List.of("--set", "training.max_steps=100000"));
        Path runDir = trainUntil(command, d -> Files.isDirectory(d.resolve("checkpoints/checkpoint-2")), true).runDir();
        MainTest.Result killed = MainTest.run("registry", "push", runDir.toString(), "--name", "fin-advisor",
                "--registry", dir.resolve("registry").toString(), "--runs-dir", runs.toString());
        assertThat(killed.code()).isEqualTo(Main.USER_ERROR);
        assertThat(killed.err()).contains("killed").contains("only finished runs");

        int latest;
        try (var s = Files.list(runDir.resolve("checkpoints"))) {
            latest = s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("checkpoint-"))
                    .mapToInt(n -> Integer.parseInt(n.substring("checkpoint-".length()))).max().orElseThrow();
        }
        // the run's own config.yaml supplies every other setting: nothing of the first command is repeated; in a
        // process of its own, so its stderr is all of it (libtorch writes there directly)
        Child resumed = child(Map.of(), "train", "--set", "training.max_steps=" + (latest + 1), "--resume", runDir.toString());
        assertThat(resumed.code()).as(resumed.err()).isZero();
        assertThat(resumed.out()).contains("done: " + (latest + 1) + " steps")
                .contains("resumed with settings that differ from config.yaml: training.max_steps=100000->" + (latest + 1) + "\n");
        // restoring the LoRA factors and AdamW's moments goes around DJL's set, which makes libtorch print a deprecation warning
        assertThat(resumed.err()).doesNotContain("AutoNonVariableTypeMode");
        JsonNode run = new ObjectMapper().readTree(runDir.resolve("run.json").toFile());
        assertThat(run.get("status").asText()).isEqualTo("finished");

        MainTest.Result push = MainTest.run("registry", "push", runDir.toString(), "--name", "fin-advisor",
                "--registry", dir.resolve("registry").toString(), "--runs-dir", runs.toString());
        assertThat(push.code()).as(push.err()).isZero();
        assertThat(push.out()).contains("registered fin-advisor:1");
    }

    @Test
    void sigtermEndsTrainingAfterTheStepUnderWayWithACheckpointOfIt() throws Exception {
        Path model = RandomCheckpoint.tiny("llama").write(dir.resolve("llama"));
        Path data = Files.writeString(dir.resolve("train.json"), """
                [{"about_me": "I am 30.", "context": "Apple rose.", "question": "Buy?", "response": "Buy index funds."}]""");
        Path runs = dir.resolve("runs");
        Stopped child = trainUntil(List.of("train", "--set", "model.id=" + model, "--set", "data.train=" + data,
                "--set", "output_dir=" + runs, "--set", "data.validation_fraction=0", "--set", "lora.r=2", "--set", "lora.target_modules=[q_proj]",
                "--set", "model.max_seq_length=256", "--set", "training.max_steps=100000", "--set", "training.save_steps=1000",
                "--set", "training.logging_steps=1"),
                d -> Files.exists(d.resolve("metrics.jsonl")) && Files.readAllLines(d.resolve("metrics.jsonl")).size() >= 3, // three steps done
                false); // SIGTERM, as Ctrl-C's SIGINT: the JVM's shutdown hooks run
        Path runDir = child.runDir();
        assertThat(child.exitCode()).isEqualTo(128 + 15);
        Matcher stopped = Pattern.compile("stopped after step (\\d+) of 100000, saved as checkpoint-(\\d+)").matcher(child.output());
        assertThat(stopped.find()).as(child.output()).isTrue();
        int step = Integer.parseInt(stopped.group(1));
        assertThat(step).isGreaterThanOrEqualTo(3).isLessThan(1000); // no save_steps boundary: the stop saved it
        assertThat(stopped.group(2)).isEqualTo(stopped.group(1));
        assertThat(runDir.resolve("checkpoints/checkpoint-" + step)).isDirectory();
        JsonNode run = new ObjectMapper().readTree(runDir.resolve("run.json").toFile());
        assertThat(run.get("status").asText()).isEqualTo("killed");
        assertThat(Files.readString(runDir.resolve("train.log"))).contains("killed: stopped after step " + step);
    }

    @Test
    void aHubIdAsModelIdDownloadsOnceAndNamesTheRepositoryInTheAdapter() throws Exception {
        Path source = RandomCheckpoint.tiny("llama").write(dir.resolve("source"));
        String repo = "acme/tiny-llama";
        String commit = "0123456789abcdef0123456789abcdef01234567";
        List<String> requests = Collections.synchronizedList(new ArrayList<>());
        // a stand-in for the hub: its model-info API and resolve URLs, as HubDownloader reads them
        HttpServer hub = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        hub.createContext("/", ex -> {
            String path = ex.getRequestURI().getPath();
            requests.add(path);
            byte[] body;
            if (path.equals("/api/models/" + repo + "/revision/main")) {
                List<Map<String, Object>> siblings = new ArrayList<>();
                try (var files = Files.list(source)) {
                    for (Path f : files.sorted().toList()) {
                        Map<String, Object> sibling = new LinkedHashMap<>(Map.of("rfilename", f.getFileName().toString(), "size", Files.size(f)));
                        if (f.toString().endsWith(".safetensors")) sibling.put("lfs", Map.of("sha256", Sha256.hex(f), "size", Files.size(f)));
                        siblings.add(sibling);
                    }
                }
                body = new ObjectMapper().writeValueAsBytes(Map.of("id", repo, "sha", commit, "siblings", siblings));
            } else if (path.startsWith("/" + repo + "/resolve/" + commit + "/")) {
                body = Files.readAllBytes(source.resolve(path.substring(path.lastIndexOf('/') + 1)));
            } else {
                body = "{\"error\":\"Repository not found\"}".getBytes();
                ex.sendResponseHeaders(404, body.length);
                ex.getResponseBody().write(body);
                ex.close();
                return;
            }
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        hub.start();
        try {
            Path data = Files.writeString(dir.resolve("train.json"), """
                    [{"about_me": "I am 30.", "context": "Apple rose.", "question": "Buy?", "response": "Buy index funds."}]""");
            Map<String, String> env = Map.of("HF_ENDPOINT", "http://127.0.0.1:" + hub.getAddress().getPort(),
                    "FINADVISOR_MODEL_CACHE", dir.resolve("cache").toString());
            Path runs = dir.resolve("runs");
            Child train = child(env, "train", "--set", "model.id=" + repo, "--set", "data.train=" + data, "--set", "output_dir=" + runs,
                    "--set", "data.validation_fraction=0", "--set", "lora.r=2", "--set", "lora.target_modules=[q_proj]",
                    "--set", "model.max_seq_length=256", "--set", "training.max_steps=2");
            assertThat(train.code()).as(train.err()).isZero();
            Path adapter = Path.of(train.out().lines().filter(l -> l.startsWith("done: ")).findFirst().orElseThrow().replaceAll(".*adapter in ", ""));
            // PEFT finds the base model by this name: the repository, not this machine's cache folder
            assertThat(new ObjectMapper().readTree(adapter.resolve("adapter_config.json").toFile()).get("base_model_name_or_path").asText())
                    .isEqualTo(repo);
            long fetched = requests.stream().filter(r -> r.contains("/resolve/")).count();
            assertThat(fetched).isPositive();

            Map<String, String> offline = new HashMap<>(env);
            offline.put("HF_HUB_OFFLINE", "1"); // the export finds the snapshot in the cache: no request
            Child export = child(offline, "export", "--model", repo, "--adapter", adapter.toString(), "--out", dir.resolve("merged").toString());
            assertThat(export.code()).as(export.err()).isZero();
            assertThat(export.out()).contains("merged 2 LoRA modules"); // q_proj of both layers
            assertThat(requests.stream().filter(r -> r.contains("/resolve/")).count()).isEqualTo(fetched);
        } finally {
            hub.stop(0);
        }
    }

    record Child(int code, String out, String err) {}

    record Stopped(Path runDir, int exitCode, String output) {}

    interface RunReady {
        boolean test(Path runDir) throws IOException;
    }

    /**
     * Runs {@code args} (a train command) in a child JVM until its run folder is {@code ready}, then stops it:
     * {@code kill} with SIGKILL, else SIGTERM. Returns once it has exited.
     */
    private Stopped trainUntil(List<String> args, RunReady ready, boolean kill) throws Exception {
        Path out = Files.createTempFile(dir, "train", ".out");
        Process child = new ProcessBuilder(java(args)).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        Path runDir = null;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (runDir == null && System.nanoTime() < deadline) {
                if (!child.isAlive()) throw new AssertionError("train ended (exit " + child.exitValue() + "):\n" + Files.readString(out));
                for (String line : Files.readAllLines(out)) {
                    if (!line.startsWith("run directory: ")) continue;
                    Path d = Path.of(line.substring("run directory: ".length()));
                    if (ready.test(d)) runDir = d;
                }
                Thread.sleep(20);
            }
        } finally {
            if (kill) child.destroyForcibly();
            else child.destroy();
        }
        assertThat(runDir).as(Files.readString(out)).isNotNull();
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Stopped(runDir, child.exitValue(), Files.readString(out));
    }

    /** Runs {@link Main} with {@code args} in a JVM of its own, with {@code env} added to its environment. */
    private Child child(Map<String, String> env, String... args) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(java(List.of(args)));
        pb.environment().putAll(env);
        Path out = Files.createTempFile(dir, "child", ".out");
        Path err = Files.createTempFile(dir, "child", ".err");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Child(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** A command line running {@link Main} with {@code args} in a JVM of its own. */
    private static List<String> java(List<String> args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(args);
        return command;
    }

    @Test
    void aBadConfigValueStopsBeforeAnyWork() {
        Path runs = dir.resolve("runs");
        MainTest.Result r = MainTest.run("train", "--set", "model.id=x", "--set", "data.train=/no/file.json", "--set", "lora.r=0",
                "--set", "output_dir=" + runs);
        assertThat(r.code()).isEqualTo(Main.USER_ERROR);
        assertThat(r.err()).contains("lora.r").contains("data.train");
        assertThat(runs).doesNotExist();
    }
}
