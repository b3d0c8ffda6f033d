package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.llm.RandomCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
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
    void aBadConfigValueStopsBeforeAnyWork() {
        Path runs = dir.resolve("runs");
        MainTest.Result r = MainTest.run("train", "--set", "model.id=x", "--set", "data.train=/no/file.json", "--set", "lora.r=0",
                "--set", "output_dir=" + runs);
        assertThat(r.code()).isEqualTo(Main.USER_ERROR);
        assertThat(r.err()).contains("lora.r").contains("data.train");
        assertThat(runs).doesNotExist();
    }
}
