package dev.finadvisor.llm.lora;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.model.CausalLM;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checkpoint's adapter written straight from the factors' tensors is the file the adapter's own writer makes. */
class LoraLayersWriteTest {
    @TempDir Path dir;

    @Test
    void writingFromTheTensorsGivesTheSameFilesAsWritingTheAdapterAndACopyIsByteForByte() throws Exception {
        Path ckpt = RandomCheckpoint.tiny("llama").write(dir.resolve("llama"));
        try (NDManager root = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, root)) {
            LoraLayers lora = LoraLayers.attach(new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj", "down_proj"), "base", "falcon"), model, 7);
            lora.layers().values().forEach(l -> l.b().addi(0.25f)); // B starts at zero: give it values to write
            lora.writeAdapter(dir.resolve("from-tensors"));
            lora.toAdapter().write(dir.resolve("from-arrays"));
            PeftAdapter.copy(dir.resolve("from-tensors"), dir.resolve("copied"));
            for (String file : List.of(PeftAdapter.WEIGHTS_FILE, PeftAdapter.CONFIG_FILE)) {
                byte[] expected = Files.readAllBytes(dir.resolve("from-arrays").resolve(file));
                assertThat(Files.readAllBytes(dir.resolve("from-tensors").resolve(file))).as(file).isEqualTo(expected);
                assertThat(Files.readAllBytes(dir.resolve("copied").resolve(file))).as(file).isEqualTo(expected);
            }
            assertThat(PeftAdapter.read(dir.resolve("copied")).modules()).hasSize(lora.layers().size());
            lora.close();
        }
    }
}
