package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RandomModelCommandTest {
    @TempDir Path dir;

    @Test
    void writesThePresetAndNamesThePresetsWhenOneIsUnknown() throws IOException {
        MainTest.Result r = MainTest.run("random-model", "--preset", "falcon", "--context", "512", "--out", dir.resolve("m").toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode config = new ObjectMapper().readTree(dir.resolve("m/config.json").toFile());
        assertThat(config.get("architectures").get(0).asText()).isEqualTo("FalconForCausalLM");
        assertThat(config.get("max_position_embeddings").asInt()).isEqualTo(512);
        assertThat(dir.resolve("m/model.safetensors")).isRegularFile();
        assertThat(dir.resolve("m/tokenizer.json")).isRegularFile();

        MainTest.Result unknown = MainTest.run("random-model", "--preset", "llama70b", "--out", dir.resolve("n").toString());
        assertThat(unknown.code()).isEqualTo(Main.USER_ERROR);
        assertThat(unknown.err()).contains("--preset: unknown preset 'llama70b'").contains("bench100m, bench1b, falcon7b, llama7b");
        assertThat(Files.exists(dir.resolve("n"))).isFalse();
    }
}
