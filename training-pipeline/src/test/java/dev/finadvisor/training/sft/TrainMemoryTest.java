package dev.finadvisor.training.sft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.config.ConfigLoader;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.model.ModelConfig;
import dev.finadvisor.llm.safetensors.SafetensorsShards;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainMemoryTest {
    @TempDir Path dir;

    private TrainMemory estimate(Path ckpt, String... sets) throws IOException {
        List<String> all = new ArrayList<>(List.of("model.id=" + ckpt, "data.train=" + Files.writeString(dir.resolve("t.json"), "[]"),
                "lora.target_modules=[q_proj, v_proj]", "lora.r=8"));
        all.addAll(List.of(sets));
        SftConfig c = new ConfigLoader().load(SftConfig.class, SftConfig.DEFAULTS, null, all).value();
        try (SafetensorsShards header = SafetensorsShards.open(ckpt)) {
            return TrainMemory.estimate(header, ModelConfig.load(ckpt), c);
        }
    }

    @Test
    void partsFollowFromTheHeaderAndTheConfig() throws IOException {
        // tiny llama: hidden 64, intermediate 96, 2 layers, 4 heads, 2 kv heads (head dim 16), vocab 384, untied, fp32
        Path ckpt = RandomCheckpoint.tiny("llama").write(dir.resolve("llama"));
        TrainMemory lora = estimate(ckpt, "quantization=none", "model.max_seq_length=128");
        long projections = 2 * (64 * 64 + 2 * 32 * 64 + 64 * 64 + 3 * 96 * 64); // q, k, v, o, gate, up, down per layer
        long tables = 2 * 384 * 64;
        long vectors = 2 * 2 * 64 + 64;                                        // two norms a layer, the final norm
        assertThat(lora.weights()).isEqualTo(4 * (projections + tables + vectors));
        assertThat(lora.lora()).isEqualTo(16L * 2 * 8 * ((64 + 64) + (64 + 32))); // q and v of 2 layers, r (in + out), x4 tensors x4 bytes
        assertThat(lora.tokens()).isEqualTo(128);

        TrainMemory qlora = estimate(ckpt, "quantization=nf4", "model.max_seq_length=128");
        assertThat(qlora.weights()).isLessThan(lora.weights()).isGreaterThan(4 * (tables + vectors));
        TrainMemory checkpointed = estimate(ckpt, "quantization=none", "model.max_seq_length=128", "training.gradient_checkpointing=true");
        assertThat(checkpointed.activations()).isLessThan(lora.activations());
        TrainMemory longer = estimate(ckpt, "quantization=none", "model.max_seq_length=256");
        assertThat(longer.activations()).isGreaterThan(2 * lora.activations()); // attention grows with the square
    }

    @Test
    void aRunTheMachineCannotHoldIsRefusedNamingWhatWouldShrinkIt() throws IOException {
        Path ckpt = RandomCheckpoint.tiny("llama").write(dir.resolve("llama"));
        TrainMemory m = estimate(ckpt, "quantization=none", "model.max_seq_length=512");
        SftConfig c = new ConfigLoader().load(SftConfig.class, SftConfig.DEFAULTS, null,
                List.of("model.id=" + ckpt, "data.train=" + dir.resolve("t.json"), "model.max_seq_length=512")).value();
        assertThatThrownBy(() -> m.check(ckpt, c, m.total() - 1)).isInstanceOf(UserError.class)
                .hasMessageContaining("needs about").hasMessageContaining("available")
                .hasMessageContaining("quantization: nf4").hasMessageContaining("training.gradient_checkpointing: true")
                .hasMessageContaining("512 tokens");
        m.check(ckpt, c, m.total()); // fits: nothing said
        m.check(ckpt, c, 0);         // available memory unknown: nothing refused
    }
}
