package dev.finadvisor.llm.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.safetensors.SafetensorsFile;
import dev.finadvisor.llm.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeftAdapterTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir Path dir;
    private final SplittableRandom random = new SplittableRandom();

    private LoraWeights randomWeights(int r, int in, int out) {
        float[] a = new float[r * in];
        float[] b = new float[out * r];
        for (int i = 0; i < a.length; i++) a[i] = (float) random.nextGaussian();
        for (int i = 0; i < b.length; i++) b[i] = (float) random.nextGaussian();
        return new LoraWeights(r, in, out, a, b);
    }

    @Test
    void adapterRoundTripsThroughPeftFormat() throws IOException {
        LoraConfig config = new LoraConfig(8, 16, 0.1, List.of("query_key_value", "dense"), "tiiuae/falcon-7b-instruct", "falcon");
        PeftAdapter adapter = new PeftAdapter(config, Map.of(
                "transformer.h.0.self_attention.query_key_value", randomWeights(8, 32, 96),
                "transformer.h.0.self_attention.dense", randomWeights(8, 32, 32)));
        adapter.write(dir);

        PeftAdapter back = PeftAdapter.read(dir);
        assertThat(back.config()).isEqualTo(config);
        assertThat(back.modules().keySet()).containsExactlyElementsOf(adapter.modules().keySet());
        for (String m : adapter.modules().keySet()) {
            assertThat(back.modules().get(m).a()).containsExactly(adapter.modules().get(m).a());
            assertThat(back.modules().get(m).b()).containsExactly(adapter.modules().get(m).b());
        }
        // the files are what PEFT expects: key names, shapes, config fields
        JsonNode json = JSON.readTree(dir.resolve("adapter_config.json").toFile());
        assertThat(json.get("peft_type").asText()).isEqualTo("LORA");
        assertThat(json.get("task_type").asText()).isEqualTo("CAUSAL_LM");
        assertThat(json.get("bias").asText()).isEqualTo("none");
        assertThat(json.get("r").isInt()).isTrue();
        assertThat(json.get("lora_alpha").isIntegralNumber()).isTrue();
        assertThat(json.get("lora_alpha").asInt()).isEqualTo(16);
        assertThat(json.get("lora_dropout").asDouble()).isEqualTo(0.1);
        assertThat(json.get("base_model_name_or_path").asText()).isEqualTo("tiiuae/falcon-7b-instruct");
        assertThat(json.get("target_modules")).hasSize(2);
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("adapter_model.safetensors"))) {
            assertThat(f.info("base_model.model.transformer.h.0.self_attention.query_key_value.lora_A.weight").shape()).containsExactly(8, 32);
            assertThat(f.info("base_model.model.transformer.h.0.self_attention.query_key_value.lora_B.weight").shape()).containsExactly(96, 8);
            assertThat(f.metadata()).containsEntry("format", "pt").containsEntry("finadvisor.template", "falcon");
        }
    }

    @Test
    void anAdapterLaidOutByPeftLoads() throws IOException, URISyntaxException {
        Path fixture = Path.of(getClass().getResource("peft_adapter").toURI());
        PeftAdapter adapter = PeftAdapter.read(fixture);
        assertThat(adapter.config().r()).isEqualTo(4);
        assertThat(adapter.config().alpha()).isEqualTo(16);
        assertThat(adapter.config().scale()).isEqualTo(4.0);
        assertThat(adapter.config().template()).isNull();
        assertThat(adapter.config().baseModel()).isEqualTo("meta-llama/Llama-3.2-1B");
        assertThat(adapter.modules()).containsOnlyKeys(
                "model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
                "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj");
        LoraWeights q = adapter.modules().get("model.layers.1.self_attn.q_proj");
        assertThat(q.in()).isEqualTo(8);
        assertThat(q.out()).isEqualTo(8);
        JsonNode expected = JSON.readTree(fixture.resolve("expected.json").toFile());
        JsonNode a = expected.get("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight");
        for (int i = 0; i < a.size(); i++) assertThat(q.a()[i]).isEqualTo((float) a.get(i).asDouble());
        JsonNode b = expected.get("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight");
        LoraWeights v = adapter.modules().get("model.layers.1.self_attn.v_proj");
        for (int i = 0; i < b.size(); i++) assertThat(v.b()[i]).isEqualTo((float) b.get(i).asDouble());
        assertThat(adapter.config().targets("model.layers.3.self_attn.v_proj")).isTrue();
        assertThat(adapter.config().targets("model.layers.3.self_attn.o_proj")).isFalse();
    }

    private void writeConfig(Map<String, Object> changes) throws IOException {
        new PeftAdapter(new LoraConfig(2, 4, 0, List.of("q_proj"), "base", null),
                Map.of("model.layers.0.self_attn.q_proj", randomWeights(2, 4, 4))).write(dir);
        ObjectNode c = (ObjectNode) JSON.readTree(dir.resolve("adapter_config.json").toFile());
        changes.forEach((k, v) -> c.set(k, JSON.valueToTree(v)));
        Files.write(dir.resolve("adapter_config.json"), JSON.writeValueAsBytes(c));
    }

    @Test
    void unsupportedPeftFeaturesAreRefusedByName() throws IOException {
        for (var bad : List.<Map<String, Object>>of(Map.of("peft_type", "IA3"), Map.of("use_dora", true),
                Map.of("bias", "all"), Map.of("fan_in_fan_out", true), Map.of("rank_pattern", Map.of("q_proj", 8)),
                Map.of("modules_to_save", List.of("lm_head")), Map.of("task_type", "SEQ_CLS"))) {
            writeConfig(bad);
            String key = bad.keySet().iterator().next();
            assertThatThrownBy(() -> PeftAdapter.read(dir)).isInstanceOf(UserError.class)
                    .hasMessageContaining("adapter_config.json").hasMessageContaining(key);
        }
    }

    @Test
    void aRankThatDisagreesWithTheFactorsIsAnError() throws IOException {
        writeConfig(Map.of("r", 3));
        assertThatThrownBy(() -> PeftAdapter.read(dir)).isInstanceOf(UserError.class)
                .hasMessageContaining("model.layers.0.self_attn.q_proj").hasMessageContaining("r=3");
    }

    @Test
    void missingFilesAndStrayTensorsAreNamed() throws IOException {
        assertThatThrownBy(() -> PeftAdapter.read(dir)).isInstanceOf(UserError.class).hasMessageContaining("no adapter_config.json");
        writeConfig(Map.of());
        new SafetensorsWriter().addFloats("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", new long[] {2, 4}, new float[8])
                .addFloats("base_model.model.lm_head.weight", new long[] {2, 2}, new float[4])
                .write(dir.resolve("adapter_model.safetensors"));
        assertThatThrownBy(() -> PeftAdapter.read(dir)).isInstanceOf(UserError.class).hasMessageContaining("lm_head.weight");
        new SafetensorsWriter().addFloats("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", new long[] {2, 4}, new float[8])
                .write(dir.resolve("adapter_model.safetensors"));
        assertThatThrownBy(() -> PeftAdapter.read(dir)).isInstanceOf(UserError.class).hasMessageContaining("no lora_B");
        Files.delete(dir.resolve("adapter_model.safetensors"));
        assertThatThrownBy(() -> PeftAdapter.read(dir)).isInstanceOf(UserError.class).hasMessageContaining("never pickle");
    }

    @Test
    void deltaIsScaleTimesBTimesA() {
        LoraWeights w = new LoraWeights(1, 2, 2, new float[] {1, 2}, new float[] {3, 4});
        assertThat(w.delta(0.5)).containsExactly(1.5f, 3f, 2f, 4f);
    }
}
