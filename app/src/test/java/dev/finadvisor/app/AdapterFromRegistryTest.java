package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.lora.LoraConfig;
import dev.finadvisor.llm.lora.LoraWeights;
import dev.finadvisor.llm.lora.PeftAdapter;
import dev.finadvisor.training.tracking.RunSpec;
import dev.finadvisor.training.tracking.RunTracker;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** generate and export take registry:NAME@ALIAS and registry:NAME:VERSION wherever they take an adapter folder. */
class AdapterFromRegistryTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir static Path dir;
    static Path model;
    static Path adapter;
    static Path registry;

    @BeforeAll
    static void registeredAdapter() throws Exception {
        model = RandomCheckpoint.tiny("llama").write(dir.resolve("llama"));
        // q_proj of the tiny Llama is 64 -> 64; B non-zero so the adapter changes what the model says
        Random random = new Random(3);
        Map<String, LoraWeights> modules = new LinkedHashMap<>();
        for (int layer = 0; layer < 2; layer++) {
            float[] a = new float[2 * 64];
            float[] b = new float[64 * 2];
            for (int i = 0; i < a.length; i++) a[i] = (float) random.nextGaussian();
            for (int i = 0; i < b.length; i++) b[i] = (float) random.nextGaussian();
            modules.put("model.layers." + layer + ".self_attn.q_proj", new LoraWeights(2, 64, 64, a, b));
        }
        PeftAdapter peft = new PeftAdapter(new LoraConfig(2, 4, 0, List.of("q_proj"), model.toString(), "falcon"), modules);
        String runId;
        try (RunTracker run = RunTracker.start(new RunSpec(dir.resolve("runs"), "reg", Map.of(), model, null, "t", "cpu()").withoutReport())) {
            peft.write(run.adapterDir());
            run.finish(Map.of("loss", 1.0));
            runId = run.id();
            adapter = run.adapterDir();
        }
        registry = dir.resolve("registry");
        MainTest.Result push = MainTest.run("registry", "push", runId, "--name", "fin-advisor", "--alias", "production",
                "--registry", registry.toString(), "--runs-dir", dir.resolve("runs").toString());
        assertThat(push.code()).as(push.err()).isZero();
    }

    private static JsonNode generated(String... adapterArgs) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("generate", "--model", model.toString(), "--prompt", "The stock market",
                "--max-new-tokens", "8", "--json"));
        args.addAll(List.of(adapterArgs));
        MainTest.Result r = MainTest.run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        return JSON.readTree(r.out()).get("generated_ids");
    }

    @Test
    void generateResolvesAnAliasAndAVersionToTheRegisteredAdapter() throws Exception {
        JsonNode viaFolder = generated("--adapter", adapter.toString());
        assertThat(generated()).isNotEqualTo(viaFolder); // the adapter changes the output: the checks below can fail
        assertThat(generated("--adapter", "registry:fin-advisor@production", "--registry", registry.toString())).isEqualTo(viaFolder);
        assertThat(generated("--adapter", "registry:fin-advisor:1", "--registry", registry.toString())).isEqualTo(viaFolder);
    }

    @Test
    void exportMergesARegisteredVersion() throws Exception {
        Path merged = dir.resolve("merged");
        MainTest.Result r = MainTest.run("export", "--model", model.toString(), "--adapter", "registry:fin-advisor:1",
                "--registry", registry.toString(), "--out", merged.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("merged 2 LoRA modules").contains("registry:fin-advisor:1");
        MainTest.Result viaMerged = MainTest.run("generate", "--model", merged.toString(), "--prompt", "The stock market",
                "--max-new-tokens", "8", "--json");
        assertThat(JSON.readTree(viaMerged.out()).get("generated_ids")).isEqualTo(generated("--adapter", adapter.toString()));
        MainTest.Result byAlias = MainTest.run("export", "--model", model.toString(), "--adapter", "registry:fin-advisor@production",
                "--registry", registry.toString(), "--out", dir.resolve("merged-alias").toString());
        assertThat(byAlias.code()).as(byAlias.err()).isZero();
    }

    @Test
    void anUnknownNameOrAliasIsAOneLineUserError() {
        MainTest.Result name = MainTest.run("generate", "--model", model.toString(), "--prompt", "hi",
                "--adapter", "registry:no-such-model@production", "--registry", registry.toString());
        assertThat(name.code()).isEqualTo(Main.USER_ERROR);
        assertThat(name.err()).contains("no model 'no-such-model'").contains("fin-advisor");
        assertThat(name.err().strip()).doesNotContain("\n");
        MainTest.Result alias = MainTest.run("export", "--model", model.toString(), "--adapter", "registry:fin-advisor@staging",
                "--registry", registry.toString(), "--out", dir.resolve("never").toString());
        assertThat(alias.code()).isEqualTo(Main.USER_ERROR);
        assertThat(alias.err()).contains("no alias 'staging'").contains("production=1");
        assertThat(dir.resolve("never")).doesNotExist();
        MainTest.Result version = MainTest.run("generate", "--model", model.toString(), "--prompt", "hi",
                "--adapter", "registry:fin-advisor:7", "--registry", registry.toString());
        assertThat(version.code()).isEqualTo(Main.USER_ERROR);
        assertThat(version.err()).contains("fin-advisor").contains("7");
    }
}
