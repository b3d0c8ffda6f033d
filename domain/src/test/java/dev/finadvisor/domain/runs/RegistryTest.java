package dev.finadvisor.domain.runs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finadvisor.domain.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryTest {
    @TempDir
    Path root;

    @Test
    void parsesAliasVersionAndBareReferences() {
        assertThat(RegistryRef.parse("registry:fin-advisor@production")).isEqualTo(new RegistryRef("fin-advisor", null, "production"));
        assertThat(RegistryRef.parse("registry:fin-advisor:12")).isEqualTo(new RegistryRef("fin-advisor", 12, null));
        assertThat(RegistryRef.parse("fin-advisor:3")).isEqualTo(new RegistryRef("fin-advisor", 3, null));
        assertThat(RegistryRef.parse("fin_advisor.v2")).isEqualTo(new RegistryRef("fin_advisor.v2", null, null));
        assertThat(RegistryRef.parse("registry:a@b").toString()).isEqualTo("registry:a@b");
        assertThat(RegistryRef.isRegistryRef("registry:a@b")).isTrue();
        assertThat(RegistryRef.isRegistryRef("runs/x/adapter")).isFalse();
    }

    @Test
    void rejectsMalformedReferencesSayingWhatIsExpected() {
        assertThatThrownBy(() -> RegistryRef.parse("registry:fin:latest")).isInstanceOf(UserError.class)
                .hasMessageContaining("version 'latest' is not a number");
        assertThatThrownBy(() -> RegistryRef.parse("registry:fin:0")).hasMessageContaining("version must be 1 or more");
        assertThatThrownBy(() -> RegistryRef.parse("registry:fin@1x")).hasMessageContaining("alias '1x' is not allowed");
        assertThatThrownBy(() -> RegistryRef.parse("registry:a/b@x")).hasMessageContaining("model name 'a/b' is not allowed");
        assertThatThrownBy(() -> RegistryRef.parse("registry:a@b:1")).hasMessageContaining("not both");
        assertThatThrownBy(() -> RegistryRef.parse("registry:")).hasMessageContaining("model name '' is not allowed");
    }

    private void version(String name, int v) throws IOException {
        Path dir = Files.createDirectories(root.resolve(name).resolve("versions").resolve(Integer.toString(v)));
        Files.createDirectories(dir.resolve("adapter"));
        Files.writeString(dir.resolve("adapter/adapter_config.json"), "{}");
        Files.writeString(dir.resolve("model.json"), """
                {"format": 1, "name": "%s", "version": %d, "created_at": "2026-11-26T07:00:00Z",
                 "adapter": {"path": "adapter", "sha256": "aa", "bytes": 2},
                 "base_model": {"path": "/models/tiny-llama", "sha256": "bb", "bytes": 100},
                 "run_id": "r%d", "run_dir": "/runs/r%d", "metrics": {"eval_loss": 1.%d}}
                """.formatted(name, v, v, v, v));
    }

    @Test
    void resolvesVersionsAndAliasesToTheAdapterFolderBaseModelAndMetrics() throws IOException {
        version("fin", 1);
        version("fin", 2);
        Files.writeString(root.resolve("fin/aliases.json"), "{\"production\": 1, \"staging\": 2}");
        Files.createDirectories(root.resolve("fin/versions/.staging-abc")); // a push in progress
        Registry reg = new Registry(root);
        assertThat(reg.names()).containsExactly("fin");
        assertThat(reg.versionNumbers("fin")).containsExactly(1, 2);
        RegisteredAdapter prod = reg.resolve("registry:fin@production");
        assertThat(prod.version()).isEqualTo(1);
        assertThat(prod.adapterDir()).isEqualTo(root.resolve("fin/versions/1/adapter").toAbsolutePath().normalize());
        assertThat(prod.baseModel().path()).isEqualTo("/models/tiny-llama");
        assertThat(prod.metrics()).containsEntry("eval_loss", 1.1);
        assertThat(reg.resolve("registry:fin:2").model().runId()).isEqualTo("r2");
        assertThat(Registry.adapterFolder("registry:fin@staging", root)).isEqualTo(root.resolve("fin/versions/2/adapter").toAbsolutePath().normalize());
        assertThat(Registry.adapterFolder("some/adapter", root)).isEqualTo(Path.of("some/adapter"));
    }

    @Test
    void missingModelVersionOrAliasSaysWhatThereIs() throws IOException {
        version("fin", 1);
        Registry reg = new Registry(root);
        assertThatThrownBy(() -> reg.resolve("registry:nope@production")).isInstanceOf(UserError.class)
                .hasMessageContaining("no model 'nope'").hasMessageContaining("models: fin");
        assertThatThrownBy(() -> reg.resolve("registry:fin:5")).hasMessageContaining("no version 5").hasMessageContaining("versions: 1");
        assertThatThrownBy(() -> reg.resolve("registry:fin@production")).hasMessageContaining("no alias 'production'")
                .hasMessageContaining("aliases: none").hasMessageContaining("registry promote fin:VERSION --alias production");
        assertThatThrownBy(() -> reg.resolve("registry:fin")).hasMessageContaining("names no version");
        Files.writeString(root.resolve("fin/aliases.json"), "{\"production\": 7}");
        assertThatThrownBy(() -> reg.resolve("registry:fin@production"))
                .hasMessage(root.resolve("fin/aliases.json") + ": alias 'production' points to version 7, which does not exist (versions: 1)");
    }

    @Test
    void corruptRegistryFilesAreErrorsNamingFileAndLine() throws IOException {
        version("fin", 1);
        Files.writeString(root.resolve("fin/aliases.json"), "{\n \"production\": \"one\"\n}");
        Registry reg = new Registry(root);
        assertThatThrownBy(() -> reg.resolve("registry:fin@production")).isInstanceOf(UserError.class)
                .hasMessageStartingWith(root.resolve("fin/aliases.json") + " line 2").hasMessageContaining("field 'production'");
        Files.writeString(root.resolve("fin/versions/1/model.json"), "{\"name\": \"fin\", \"version\": 1");
        assertThatThrownBy(() -> reg.resolve("registry:fin:1")).isInstanceOf(UserError.class)
                .hasMessageStartingWith(root.resolve("fin/versions/1/model.json") + " line 1").hasMessageContaining("not valid JSON");
        Files.writeString(root.resolve("fin/versions/1/model.json"), "{\"name\": \"other\", \"version\": 1}");
        assertThatThrownBy(() -> reg.resolve("registry:fin:1")).hasMessageContaining("field 'name' is 'other' but the folder is model 'fin'");
    }
}
