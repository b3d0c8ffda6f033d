package dev.finadvisor.training.sft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.config.ConfigLoader;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.lora.PeftAdapter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
        assertThat(said).anyMatch(l -> l.contains("4 examples"));
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
    void truncationIsCountedAndResumeContinuesFromTheLatestCheckpoint(@TempDir Path runs) throws IOException {
        SftJob.Outcome first = new SftJob(config(runs, "model.max_seq_length=160"), l -> { }).run(null);
        assertThat(first.trainStats().truncated()).isPositive();
        SftJob.Outcome resumed = new SftJob(config(runs, "model.max_seq_length=160", "training.max_steps=9"), l -> { }).run(first.runDir());
        assertThat(resumed.state().step()).isEqualTo(9);
        List<Integer> steps = metrics(first.runDir()).stream().filter(n -> n.has("loss")).map(n -> n.get("step").asInt()).toList();
        assertThat(steps).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9);
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
    void aTargetThatMatchesNoLayerIsAClearError(@TempDir Path runs) {
        assertThatThrownBy(() -> new SftJob(config(runs, "lora.target_modules=[query_key_value]"), l -> { }).run(null))
                .isInstanceOf(UserError.class).hasMessageContaining("query_key_value").hasMessageContaining("q_proj");
    }
}
