package dev.finadvisor.llm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.RandomCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigTest {
    @TempDir
    Path dir;

    @Test
    void unsupportedArchitecturesAreNamedWithTheSupportedList() throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"GPT2LMHeadModel\"], \"vocab_size\": 10}");
        assertThatThrownBy(() -> ModelConfig.load(dir)).isInstanceOf(UserError.class)
                .hasMessageContaining("GPT2LMHeadModel").hasMessageContaining("LlamaForCausalLM").hasMessageContaining("FalconForCausalLM");
    }

    @Test
    void aJsonSyntaxErrorIsOneLineWithItsPlace() throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"LlamaForCausalLM\"],\n \"hidden_size\": 64,, }");
        assertThatThrownBy(() -> ModelConfig.load(dir)).isInstanceOf(UserError.class)
                .hasMessageContaining("config.json: not valid JSON").hasMessageContaining("at line 2, column")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").doesNotContain("[Source"));
    }

    @Test
    void missingOrMistypedKeysNameTheFileAndKey() throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": \"big\"}");
        assertThatThrownBy(() -> ModelConfig.load(dir)).hasMessageContaining("config.json").hasMessageContaining("'hidden_size' is \"big\"");
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"FalconForCausalLM\"], \"hidden_size\": 64, \"n_head\": 4, \"alibi\": true}");
        assertThatThrownBy(() -> ModelConfig.load(dir)).hasMessageContaining("alibi");
    }

    /** transformers v5 writes the RoPE base and scaling as rope_parameters, with no top-level rope_theta. */
    @Test
    void readsTransformersV5RopeParametersAndRefusesARopeTypeItCannotRun() throws Exception {
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2,
                 "intermediate_size": 96, "vocab_size": 384, "max_position_embeddings": 256,
                 "rope_parameters": {"rope_theta": 500000.0, "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                     "high_freq_factor": 4.0, "original_max_position_embeddings": 64}}""");
        ModelConfig v5 = ModelConfig.load(dir);
        assertThat(v5.ropeTheta()).isEqualTo(500000.0);
        assertThat(v5.ropeScaling().type()).isEqualTo("llama3");
        assertThat(v5.ropeScaling().factor()).isEqualTo(8.0);
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["FalconForCausalLM"], "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2,
                 "vocab_size": 384, "rope_parameters": {"rope_theta": 1000000.0, "rope_type": "default"}}""");
        ModelConfig falcon = ModelConfig.load(dir);
        assertThat(falcon.ropeTheta()).isEqualTo(1000000.0);
        assertThat(falcon.ropeScaling()).isNull();
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2,
                 "intermediate_size": 96, "vocab_size": 384, "max_position_embeddings": 256,
                 "rope_parameters": {"rope_theta": 10000.0, "rope_type": "yarn", "factor": 4.0}}""");
        assertThatThrownBy(() -> ModelConfig.load(dir)).isInstanceOf(UserError.class)
                .hasMessageContaining("rope type 'yarn'").hasMessageContaining("supported: default, linear, llama3");
    }

    @Test
    void readsFalconsOldKeyNamesAndLlama3RopeScaling() throws Exception {
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["RWForCausalLM"], "hidden_size": 4544, "n_head": 71, "n_layer": 32, "vocab_size": 65024,
                 "multi_query": true, "parallel_attn": true, "bias": false}""");
        ModelConfig falcon = ModelConfig.load(dir);
        assertThat(falcon.family()).isEqualTo(ModelConfig.Family.FALCON);
        assertThat(falcon.numKvHeads()).isEqualTo(1);
        assertThat(falcon.headDim()).isEqualTo(64);
        assertThat(falcon.intermediateSize()).isEqualTo(4 * 4544);
        Path llama3 = RandomCheckpoint.tiny("llama3").write(dir.resolve("l3"));
        ModelConfig c = ModelConfig.load(llama3);
        assertThat(c.ropeScaling().type()).isEqualTo("llama3");
        assertThat(c.tieWordEmbeddings()).isTrue();
    }

    @Test
    void weightsThatDisagreeWithTheConfigAreNamed() throws Exception {
        Path ckpt = RandomCheckpoint.tiny("llama").write(dir.resolve("llama"));
        String config = Files.readString(ckpt.resolve("config.json")).replace("\"intermediate_size\" : 96", "\"intermediate_size\" : 128");
        Files.writeString(ckpt.resolve("config.json"), config);
        try (NDManager m = NDManager.newBaseManager()) {
            assertThatThrownBy(() -> CausalLM.load(ckpt, m)).isInstanceOf(UserError.class)
                    .hasMessageContaining("model.layers.0.mlp.gate_proj.weight").hasMessageContaining("[96, 64]").hasMessageContaining("[128, 64]");
        }
    }
}
