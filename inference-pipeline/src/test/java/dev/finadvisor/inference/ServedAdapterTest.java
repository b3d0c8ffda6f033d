package dev.finadvisor.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.lora.LoraConfig;
import dev.finadvisor.llm.lora.LoraWeights;
import dev.finadvisor.llm.lora.PeftAdapter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Adapters from folders and from the registry, with the template their training used. */
class ServedAdapterTest {
    @TempDir Path dir;

    private static PeftAdapter adapter(String template) {
        return new PeftAdapter(new LoraConfig(2, 4, 0, List.of("q_proj"), "tiny-llama", template),
                Map.of("model.layers.0.self_attn.q_proj", new LoraWeights(2, 64, 64, new float[128], new float[128])));
    }

    @Test
    void registryAliasResolvesToTheVersionsAdapterAndItsRunsTemplate() throws Exception {
        Path run = Files.createDirectories(dir.resolve("runs/r7"));
        Files.writeString(run.resolve("config.yaml"), "model:\n  id: tiny-llama\n  template: chatml\n");
        Path version = Files.createDirectories(dir.resolve("registry/fin-advisor/versions/3"));
        adapter(null).write(version.resolve("adapter")); // made without a template record, as PEFT would
        Files.writeString(version.resolve("model.json"), """
                {"format": 1, "name": "fin-advisor", "version": 3, "created_at": "2026-11-26T07:00:00Z",
                 "adapter": {"path": "adapter", "sha256": "aa", "bytes": 2},
                 "base_model": {"path": "/models/tiny-llama", "sha256": "bb", "bytes": 100},
                 "run_id": "r7", "run_dir": "%s", "metrics": {"eval_loss": 1.5}}
                """.formatted(run.toString().replace("\\", "\\\\")));
        Files.writeString(dir.resolve("registry/fin-advisor/aliases.json"), "{\"production\": 3}");

        ServedAdapter a = ServedAdapter.resolve("registry:fin-advisor@production", dir.resolve("registry"));
        assertThat(a.id()).isEqualTo("fin-advisor:3 (@production)");
        assertThat(a.dir()).isEqualTo(version.resolve("adapter").toAbsolutePath().normalize());
        assertThat(a.template()).isEqualTo("chatml");
        assertThat(a.baseModel()).isEqualTo("/models/tiny-llama");
        assertThat(a.adapter().modules()).containsKey("model.layers.0.self_attn.q_proj");
        assertThat(ServedAdapter.resolve("registry:fin-advisor:3", dir.resolve("registry")).id()).isEqualTo("fin-advisor:3");
        assertThatThrownBy(() -> ServedAdapter.resolve("registry:fin-advisor@staging", dir.resolve("registry")))
                .isInstanceOf(UserError.class).hasMessageContaining("no alias 'staging'");
    }

    @Test
    void folderAdapterCarriesItsOwnTemplateAndAMissingFolderIsAClearError() throws Exception {
        adapter("falcon").write(dir.resolve("advisor-v2"));
        ServedAdapter a = ServedAdapter.resolve(dir.resolve("advisor-v2").toString(), dir.resolve("registry"));
        assertThat(a.id()).isEqualTo("advisor-v2");
        assertThat(a.template()).isEqualTo("falcon");
        assertThatThrownBy(() -> ServedAdapter.resolve(dir.resolve("nope").toString(), dir))
                .isInstanceOf(UserError.class).hasMessageContaining("no such folder").hasMessageContaining("registry:NAME@ALIAS");
    }
}
