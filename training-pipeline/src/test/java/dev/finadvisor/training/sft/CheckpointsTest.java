package dev.finadvisor.training.sft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.lora.LoraConfig;
import dev.finadvisor.llm.lora.LoraWeights;
import dev.finadvisor.llm.lora.PeftAdapter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointsTest {
    @TempDir Path dir;

    private static PeftAdapter adapter(float value) {
        float[] a = new float[2 * 4];
        float[] b = new float[4 * 2];
        java.util.Arrays.fill(a, value);
        java.util.Arrays.fill(b, -value);
        return new PeftAdapter(new LoraConfig(2, 4, 0, List.of("q_proj"), "base", "falcon"),
                Map.of("model.layers.0.self_attn.q_proj", new LoraWeights(2, 4, 4, a, b)));
    }

    private Checkpoints threeCheckpoints() {
        Checkpoints c = new Checkpoints(dir.resolve("checkpoints"));
        try (NDManager m = NDManager.newBaseManager()) {
            for (int step = 1; step <= 3; step++) {
                NDArray moment = m.create(new float[] {step, step + 0.5f, step + 0.25f});
                c.save(new TrainerState(step, 10, Double.POSITIVE_INFINITY, -1), adapter(step)::write, Map.of("exp_avg.x", moment), step);
            }
        }
        return c;
    }

    @Test
    void aCheckpointLoadsBackAsSaved() {
        Checkpoints c = threeCheckpoints();
        Checkpoints.Loaded l = Checkpoints.load(c.dirFor(3));
        assertThat(l.state().step()).isEqualTo(3);
        assertThat(l.optimizer().get("exp_avg.x")).containsExactly(3f, 3.5f, 3.25f);
        assertThat(l.optimizerSteps()).isEqualTo(3);
        assertThat(c.dirFor(3).resolve(Checkpoints.CHECKSUMS_FILE)).exists();
    }

    @Test
    void aBitFlipInTheOptimizerFileIsRefusedNamingItAndTheEarlierCheckpoints() throws Exception {
        Checkpoints c = threeCheckpoints();
        Path optimizer = c.dirFor(3).resolve(Checkpoints.OPTIMIZER_FILE);
        try (FileChannel f = FileChannel.open(optimizer, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long at = f.size() - 3; // inside the tensor data: still a well-formed safetensors file
            ByteBuffer one = ByteBuffer.allocate(1);
            f.read(one, at);
            one.put(0, (byte) (one.get(0) ^ 0x10)).rewind();
            f.write(one, at);
        }
        assertThatThrownBy(() -> Checkpoints.load(c.dirFor(3))).isInstanceOf(UserError.class)
                .hasMessageContaining(optimizer.toString()).hasMessageContaining("does not match the checksum")
                .hasMessageContaining("[checkpoint-1, checkpoint-2]").hasMessageContaining("--resume continues from checkpoint-2");
        assertThat(Checkpoints.load(c.dirFor(2)).state().step()).isEqualTo(2);
    }

    @Test
    void aTrainerStateWithoutGlobalStepIsAUserError() throws Exception {
        Checkpoints c = threeCheckpoints();
        Path state = c.dirFor(1).resolve(Checkpoints.STATE_FILE);
        Files.writeString(state, "{\"max_steps\": 10}");
        Files.delete(c.dirFor(1).resolve(Checkpoints.CHECKSUMS_FILE)); // as a checkpoint from before checksums
        assertThatThrownBy(() -> Checkpoints.load(c.dirFor(1))).isInstanceOf(UserError.class)
                .hasMessageContaining(state.toString()).hasMessageContaining("no global_step");
        Files.delete(c.dirFor(1).resolve(Checkpoints.OPTIMIZER_FILE));
        assertThat(Checkpoints.load(c.dirFor(2)).state().step()).isEqualTo(2);
    }
}
