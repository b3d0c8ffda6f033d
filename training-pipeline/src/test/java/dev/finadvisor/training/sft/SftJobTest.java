package dev.finadvisor.training.sft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.config.ConfigLoader;
import dev.finadvisor.domain.qa.QaDataset;
import dev.finadvisor.domain.qa.QaSample;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.domain.runs.MetricPoint;
import dev.finadvisor.domain.runs.ModelVersion;
import dev.finadvisor.domain.runs.Registry;
import dev.finadvisor.domain.runs.Run;
import dev.finadvisor.domain.runs.RunLayout;
import dev.finadvisor.domain.runs.RunStatus;
import dev.finadvisor.domain.runs.RunStore;
import dev.finadvisor.llm.lora.PeftAdapter;
import dev.finadvisor.llm.model.ModelConfig;
import dev.finadvisor.training.tracking.RegistryWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SftJobTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir static Path shared;
    static Path model;
    static Path data;

    @BeforeAll
    static void files() throws IOException {
        model = RandomCheckpoint.tiny("llama").write(shared.resolve("tiny-llama"));
        StringBuilder json = new StringBuilder("[");
        String[] answers = {"Buy index funds.", "Hold cash for now.", "Diversify your portfolio.", "Keep an emergency fund.",
                "Invest for the long term.", "The market is volatile."};
        for (int i = 0; i < answers.length; i++) {
            if (i > 0) json.append(',');
            json.append("{\"about_me\": \"I am a 30 year old investor.\", \"context\": \"Shares of Apple rose.\", ")
                    .append("\"question\": \"Should I buy stocks? ").append(i).append("\", \"response\": \"").append(answers[i]).append("\"}");
        }
        data = Files.writeString(shared.resolve("train.json"), json.append(']').toString());
    }

    private static ConfigLoader.Loaded<SftConfig> config(Path runs, String... sets) {
        List<String> all = new ArrayList<>(List.of("model.id=" + model, "data.train=" + data, "output_dir=" + runs,
                "lora.r=4", "lora.target_modules=[q_proj, v_proj, o_proj, down_proj]", "training.learning_rate=0.01",
                "training.per_device_train_batch_size=2", "training.gradient_accumulation_steps=1", "training.max_steps=6",
                "training.save_steps=3", "training.eval_steps=3", "training.logging_steps=1", "data.validation_fraction=0.34",
                "model.max_seq_length=256"));
        all.addAll(List.of(sets));
        return new ConfigLoader().load(SftConfig.class, SftConfig.DEFAULTS, null, all);
    }

    private static List<JsonNode> metrics(Path runDir) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(runDir.resolve("metrics.jsonl"))) out.add(JSON.readTree(line));
        return out;
    }

    @Test
    void trainsATinyLlamaIntoAPeftAdapterInARunDirectory(@TempDir Path runs) throws IOException {
        List<String> said = new ArrayList<>();
        SftJob.Outcome o = new SftJob(config(runs), said::add).run(null);
        assertThat(o.runDir().resolve("config.yaml")).exists();
        assertThat(Files.readString(o.runDir().resolve("run.json"))).contains("finished");
        List<JsonNode> m = metrics(o.runDir());
        assertThat(m.get(0).get("loss").asDouble()).isGreaterThan(m.get(m.size() - 1).get("loss").asDouble());
        assertThat(m.stream().filter(n -> n.has("eval_loss")).count()).isEqualTo(2);
        PeftAdapter adapter = PeftAdapter.read(o.adapterDir());
        assertThat(adapter.config().template()).isEqualTo("falcon");
        assertThat(adapter.modules()).containsKey("model.layers.1.self_attn.q_proj").containsKey("model.layers.0.mlp.down_proj");
        assertThat(adapter.modules()).doesNotContainKey("model.layers.0.self_attn.k_proj");
        assertThat(o.trainStats().examples()).isEqualTo(4);
        assertThat(o.trainStats().truncated()).isZero();
        // the held-out samples, for `eval --data`: those training did not see
        List<QaSample> heldOut = QaDataset.load(new RunLayout(o.runDir()).validation());
        assertThat(heldOut).isNotEmpty().hasSize(QaDataset.load(data).size() - 4);
        assertThat(said).anyMatch(l -> l.contains("4 examples"));
    }

    @Test
    void evalAfterTrainingRecordsTheHeldOutMetricsWithTheRun(@TempDir Path runs) throws IOException {
        List<String> said = new ArrayList<>();
        SftJob.Outcome o = new SftJob(config(runs, "eval.after_training=true", "eval.max_new_tokens=4"), said::add).run(null);
        java.util.Map<String, Double> finals = RunStore.readDir(o.runDir()).info().finalMetrics();
        assertThat(finals).containsKeys("loss", "eval_loss", "perplexity", "rouge_l", "latency_ms", "tokens_per_s");
        // the final adapter is the best checkpoint's, scored on the same held-out samples: its answer loss is the best eval_loss
        assertThat(Math.log(finals.get("perplexity"))).isCloseTo(finals.get("eval_loss"), within(1e-3));
        assertThat(finals.get("loss")).as("the last training loss keeps its name").isEqualTo(metrics(o.runDir()).get(5).get("loss").asDouble());
        JsonNode report = JSON.readTree(o.runDir().resolve("eval/report.json").toFile());
        assertThat(report.get("about").get("samples").asInt()).isEqualTo(2);
        assertThat(report.get("rows").get(0).get("adapter").has("answer")).isTrue();
        assertThat(said).anyMatch(l -> l.startsWith("eval.after_training on 2 held-out samples: rouge_l"));
        assertThatThrownBy(() -> config(runs, "eval.weights=int4")).hasMessageContaining("eval.weights").hasMessageContaining("int4");
    }

    @Test
    void qloraTrainsOnAnNf4BaseHoldingAboutHalfAByteAWeight(@TempDir Path runs) throws IOException {
        SftJob.Outcome o = new SftJob(config(runs, "quantization=nf4"), l -> { }).run(null);
        assertThat(o.quantization().layers()).isEqualTo(2 * 7); // q, k, v, o, gate, up, down per layer
        assertThat(o.quantization().bytesPerParameter()).isLessThanOrEqualTo(0.6);
        List<JsonNode> m = metrics(o.runDir());
        assertThat(m.get(0).get("loss").asDouble()).isGreaterThan(m.get(m.size() - 1).get("loss").asDouble());
    }

    @Test
    void gradientCheckpointingGivesTheLossCurveOfATrainingWithout(@TempDir Path runs) throws IOException {
        // dropout on: the recomputed layers draw the masks the forward drew; QLoRA: weights decoded per use
        for (String quantization : List.of("none", "nf4")) {
            List<JsonNode> plain = metrics(new SftJob(config(runs, "lora.dropout=0.2", "quantization=" + quantization), l -> { })
                    .run(null).runDir());
            List<JsonNode> checkpointed = metrics(new SftJob(config(runs, "lora.dropout=0.2", "quantization=" + quantization,
                    "training.gradient_checkpointing=true"), l -> { }).run(null).runDir());
            assertThat(checkpointed).hasSameSizeAs(plain);
            for (int i = 0; i < plain.size(); i++) {
                for (String key : List.of("loss", "grad_norm", "eval_loss")) {
                    if (!plain.get(i).has(key)) continue;
                    assertThat(checkpointed.get(i).get(key).asDouble()).as(quantization + " step " + i + " " + key)
                            .isCloseTo(plain.get(i).get(key).asDouble(), within(1e-5));
                }
            }
        }
    }

    @Test
    void truncationIsCountedAndAFinishedRunIsNotResumed(@TempDir Path runs) {
        SftJob.Outcome first = new SftJob(config(runs, "model.max_seq_length=160", "training.max_steps=2"), l -> { }).run(null);
        assertThat(first.trainStats().truncated()).isPositive();
        assertThatThrownBy(() -> new SftJob(config(runs, "model.max_seq_length=160", "training.max_steps=4"), l -> { }).run(first.runDir()))
                .isInstanceOf(UserError.class).hasMessageContaining("already finished");
    }

    @Test
    void aRunKilledWithSigkillResumesToFinishedAndCanBeRegistered(@TempDir Path runs) throws Exception {
        List<String> sets = new ArrayList<>(List.of("model.id=" + model, "data.train=" + data, "output_dir=" + runs,
                "lora.r=4", "lora.target_modules=[q_proj, v_proj]", "training.learning_rate=0.01",
                "training.per_device_train_batch_size=2", "training.gradient_accumulation_steps=1", "training.max_steps=100000",
                "training.save_steps=2", "training.eval_steps=100000", "training.logging_steps=1", "data.validation_fraction=0.34",
                "training.lr_scheduler_type=constant", "model.max_seq_length=256"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"), SftJobChild.class.getName()));
        command.addAll(sets);
        Path out = Files.createTempFile(shared, "child", ".out");
        Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        Path runDir;
        try {
            runDir = awaitCheckpoint(child, out, runs, 4);
        } finally {
            child.destroyForcibly(); // SIGKILL: no shutdown hook, run.json still says "running"
        }
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(RunStore.readDir(runDir).info().status()).isEqualTo(RunStatus.RUNNING);
        assertThat(RunStore.readDir(runDir).status()).isEqualTo(RunStatus.KILLED);
        int latest = new Checkpoints(new RunLayout(runDir).checkpoints()).latest().orElseThrow();

        // Resumed to completion (two more steps) under this process, through the run's tracker.
        sets.set(sets.indexOf("training.max_steps=100000"), "training.max_steps=" + (latest + 2));
        SftJob.Outcome o = new SftJob(new ConfigLoader().load(SftConfig.class, SftConfig.DEFAULTS, null, sets), l -> { }).run(runDir);
        assertThat(o.runDir()).isEqualTo(runDir);
        assertThat(o.state().step()).isEqualTo(latest + 2);
        Run run = RunStore.readDir(runDir);
        assertThat(run.info().status()).isEqualTo(RunStatus.FINISHED);
        assertThat(run.status()).isEqualTo(RunStatus.FINISHED);
        assertThat(run.info().process().pid()).isEqualTo(ProcessHandle.current().pid());
        assertThat(run.info().artifacts()).containsKey("adapter");
        List<Long> steps = run.metrics().stream().map(MetricPoint::step).toList();
        List<Long> expected = new ArrayList<>();
        for (long s = 1; s <= latest + 2; s++) expected.add(s);
        assertThat(steps).as("one line per step: the killed process's lines after the checkpoint are gone").isEqualTo(expected);
        assertThat(Files.readString(new RunLayout(runDir).log())).contains("resumed from step " + latest).contains("was killed")
                .contains("resumed with settings that differ from config.yaml: training.max_steps=100000->" + (latest + 2));

        Path registry = shared.resolve("registry-" + runDir.getFileName());
        ModelVersion v = new RegistryWriter(registry).push(run, "fin-advisor");
        assertThat(v.version()).isEqualTo(1);
        assertThat(Registry.adapterFolder("registry:fin-advisor:1", registry).resolve("adapter_model.safetensors")).exists();
    }

    /** Waits until the child's run has a checkpoint at step {@code step} or later; returns the run folder. */
    private static Path awaitCheckpoint(Process child, Path out, Path runs, int step) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (!child.isAlive()) throw new AssertionError("the child ended (exit " + child.exitValue() + "):\n" + Files.readString(out));
            for (String line : Files.readAllLines(out)) {
                if (!line.startsWith("run directory: ")) continue;
                Path dir = Path.of(line.substring("run directory: ".length()));
                if (new Checkpoints(new RunLayout(dir).checkpoints()).latest().orElse(0) >= step) return dir;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no checkpoint-" + step + " within 120 s:\n" + Files.readString(out));
    }

    @Test
    void samplesAreCleanedBeforeTemplatingAndTheResolvedConfigSaysSo(@TempDir Path runs) throws IOException {
        // the course's file starts every question and response with a newline; here also stray spaces
        String json = Files.readString(data).replace("\"question\": \"", "\"question\": \"\\n")
                .replace("\"response\": \"", "\"response\": \"\\n  ").replace("Apple rose.", "Apple   rose.  ");
        Path dirty = Files.writeString(runs.resolve("dirty.json"), json);
        assertThat(json).contains("\\n  Buy index funds.");
        ExampleBuilder.Stats clean = new SftJob(config(runs, "training.max_steps=1"), l -> { }).run(null).trainStats();
        List<String> said = new ArrayList<>();
        SftJob.Outcome cleaned = new SftJob(config(runs, "training.max_steps=1", "data.train=" + dirty), said::add).run(null);
        ExampleBuilder.Stats kept = new SftJob(config(runs, "training.max_steps=1", "data.train=" + dirty, "data.clean=false"), l -> { })
                .run(null).trainStats();

        assertThat(cleaned.trainStats()).isEqualTo(clean); // the same tokens as data that never had the newlines
        assertThat(kept.answerTokens()).isGreaterThan(clean.answerTokens()); // uncleaned, the newline is trained on
        assertThat(kept.tokens()).isGreaterThan(clean.tokens());
        assertThat(said).contains("data.clean: 6 of 6 training samples changed by QaCleaner");
        JsonNode resolved = new ObjectMapper(new YAMLFactory()).readTree(cleaned.runDir().resolve("config.yaml").toFile());
        assertThat(resolved.at("/data/clean").asBoolean(false)).isTrue();
        assertThat(Files.readString(cleaned.runDir().resolve("train.log"))).contains("6 of 6 training samples changed by QaCleaner");
    }

    @Test
    void packedTrainingRunsOnFixedLengthBlocks(@TempDir Path runs) throws IOException {
        List<String> said = new ArrayList<>();
        SftJob.Outcome o = new SftJob(config(runs, "data.packing=true", "model.max_seq_length=64", "training.max_steps=3"), said::add).run(null);
        assertThat(said).anyMatch(l -> l.startsWith("data.packing: 4 examples + EOS"));
        assertThat(o.trainStats().truncated()).isZero(); // packed samples span blocks instead of being cut
        List<JsonNode> m = metrics(o.runDir());
        assertThat(m).extracting(n -> n.get("step").asInt()).containsExactly(1, 2, 3);
        assertThat(m.get(0).get("loss").asDouble()).isGreaterThan(m.get(2).get("loss").asDouble());
        JsonNode resolved = new ObjectMapper(new YAMLFactory()).readTree(o.runDir().resolve("config.yaml").toFile());
        assertThat(resolved.at("/data/packing").asBoolean(false)).isTrue();
    }

    @Test
    void falconsFusedQueryKeyValueIsAdaptedAsInTheCourse(@TempDir Path runs) throws IOException {
        Path falcon = RandomCheckpoint.tiny("falcon").write(runs.resolve("falcon"));
        SftJob.Outcome o = new SftJob(config(runs, "model.id=" + falcon, "lora.target_modules=[query_key_value, dense]",
                "training.max_steps=2", "quantization=nf4"), l -> { }).run(null);
        PeftAdapter adapter = PeftAdapter.read(o.adapterDir());
        assertThat(adapter.modules()).containsKeys("transformer.h.0.self_attention.query_key_value", "transformer.h.1.self_attention.dense");
        assertThat(adapter.modules()).doesNotContainKey("transformer.h.0.mlp.dense_h_to_4h"); // "dense" matches whole names only
    }

    @Test
    void allLinearAdaptsEveryLinearButTheOutputHeadAndTheAdapterNamesThem(@TempDir Path runs) throws IOException {
        List<String> said = new ArrayList<>();
        SftJob.Outcome o = new SftJob(config(runs, "lora.target_modules=[all-linear]", "training.max_steps=1"), said::add).run(null);
        PeftAdapter adapter = PeftAdapter.read(o.adapterDir());
        List<String> all = List.of("down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj");
        assertThat(adapter.config().targetModules()).isEqualTo(all); // as PEFT saves all-linear: the names it matched
        assertThat(adapter.modules()).hasSize(all.size() * 2).doesNotContainKey("lm_head"); // tiny llama: two decoder layers
        assertThat(said).anyMatch(l -> l.contains("on 14 layers (" + String.join(", ", all) + ")"));
        assertThatThrownBy(() -> config(runs, "lora.target_modules=[all-linear, q_proj]")).isInstanceOf(UserError.class)
                .hasMessageContaining("all-linear beside other names");
    }

    @Test
    void aMaxSeqLengthBeyondTheModelsContextStopsBeforeTheRunStarts(@TempDir Path runs) throws IOException {
        int context = ModelConfig.load(model).maxPositions();
        assertThatThrownBy(() -> new SftJob(config(runs, "model.max_seq_length=" + (context + 1)), l -> { }).run(null))
                .isInstanceOf(UserError.class).hasMessageContaining("model.max_seq_length " + (context + 1))
                .hasMessageContaining("at most " + context);
        try (var made = Files.list(runs)) {
            assertThat(made.filter(p -> p.getFileName().toString().matches("\\d{8}-\\d{6}-sft"))).isEmpty(); // no run folder
        }
    }

    @Test
    void aTargetThatMatchesNoLayerIsAClearError(@TempDir Path runs) {
        assertThatThrownBy(() -> new SftJob(config(runs, "lora.target_modules=[query_key_value]"), l -> { }).run(null))
                .isInstanceOf(UserError.class).hasMessageContaining("query_key_value").hasMessageContaining("q_proj");
    }

    @Test
    void configYamlRecordsLocalPathsAbsolutelyAndHubIdsAsGiven(@TempDir Path dir) throws IOException {
        Path cwd = Path.of("").toAbsolutePath();
        Files.createDirectories(dir.resolve("model"));
        String model = cwd.relativize(dir.resolve("model")).toString();
        String data = cwd.relativize(dir.resolve("train.json")).toString();
        ObjectMapper json = new ObjectMapper();
        ObjectNode tree = (ObjectNode) json.readTree(
                "{\"model\": {\"id\": \"" + model + "\"}, \"data\": {\"train\": \"" + data + "\", \"validation\": null},"
                        + " \"output_dir\": \"runs\"}");
        JsonNode local = SftJob.absolutePaths(tree);
        assertThat(local.path("model").path("id").asText()).isEqualTo(dir.resolve("model").toString());
        assertThat(local.path("data").path("train").asText()).isEqualTo(dir.resolve("train.json").toString());
        assertThat(local.path("data").path("validation").isNull()).isTrue();
        assertThat(local.path("output_dir").asText()).isEqualTo(cwd.resolve("runs").toString());
        assertThat(tree.path("data").path("train").asText()).isEqualTo(data); // a copy: the loaded tree is left as it was

        ((ObjectNode) tree.get("model")).put("id", "tiiuae/falcon-7b-instruct@main");
        assertThat(SftJob.absolutePaths(tree).path("model").path("id").asText()).isEqualTo("tiiuae/falcon-7b-instruct@main");
    }
}
