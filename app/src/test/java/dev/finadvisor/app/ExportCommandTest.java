package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finadvisor.llm.lora.LoraConfig;
import dev.finadvisor.llm.lora.LoraWeights;
import dev.finadvisor.llm.lora.PeftAdapter;
import dev.finadvisor.llm.safetensors.SafetensorsFile;
import dev.finadvisor.llm.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExportCommandTest {
    @TempDir Path dir;

    @Test
    void exportWritesTheMergedCheckpoint() throws IOException {
        Path model = Files.createDirectories(dir.resolve("model"));
        new SafetensorsWriter().addFloats("model.layers.0.self_attn.q_proj.weight", new long[] {2, 2}, new float[] {1, 0, 0, 1})
                .write(model.resolve("model.safetensors"));
        Files.writeString(model.resolve("config.json"), "{}");
        new PeftAdapter(new LoraConfig(1, 2, 0, List.of("q_proj"), "model", "falcon"),
                Map.of("model.layers.0.self_attn.q_proj", new LoraWeights(1, 2, 2, new float[] {1, 2}, new float[] {3, 4})))
                .write(dir.resolve("adapter"));
        MainTest.Result r = MainTest.run("export", "--model", model.toString(), "--adapter", dir.resolve("adapter").toString(),
                "--out", dir.resolve("out").toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("merged 1 LoRA modules");
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("out/model.safetensors"))) {
            // W + (alpha/r) B A = I + 2 * [[3,6],[4,8]]
            assertThat(f.readFloats("model.layers.0.self_attn.q_proj.weight")).containsExactly(7, 12, 8, 17);
        }
        MainTest.Result again = MainTest.run("export", "--model", model.toString(), "--adapter", dir.resolve("adapter").toString(),
                "--out", dir.resolve("out").toString());
        assertThat(again.code()).isEqualTo(Main.USER_ERROR);
        assertThat(again.err()).contains("already exists");
        MainTest.Result noAdapter = MainTest.run("export", "--model", model.toString(), "--adapter", dir.toString(), "--out", dir.resolve("o2").toString());
        assertThat(noAdapter.code()).isEqualTo(Main.USER_ERROR);
        assertThat(noAdapter.err()).contains("not a PEFT adapter folder");
    }
}
