package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finadvisor.domain.runs.Registry;
import dev.finadvisor.domain.runs.RunJson;
import dev.finadvisor.domain.runs.Sha256;
import dev.finadvisor.training.tracking.RunSpec;
import dev.finadvisor.training.tracking.RunTracker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryCommandTest {
    @TempDir
    Path tmp;

    private String finishedRun(String name, String weights, double evalLoss) throws Exception {
        return finishedRun(name, weights, Map.of("eval_loss", evalLoss));
    }

    private String finishedRun(String name, String weights, Map<String, Double> metrics) throws Exception {
        Path base = Files.createDirectories(tmp.resolve("base"));
        Files.writeString(base.resolve("config.json"), "{\"model_type\": \"llama\"}");
        try (RunTracker t = RunTracker.start(new RunSpec(tmp.resolve("runs"), name, Map.of(), base, null, "t", "cpu()").withoutReport())) {
            t.log(1, Map.of("loss", 2.0));
            Files.createDirectories(t.adapterDir());
            Files.writeString(t.adapterDir().resolve("adapter_config.json"), "{\"peft_type\": \"LORA\"}");
            Files.writeString(t.adapterDir().resolve("adapter_model.safetensors"), weights);
            t.finish(metrics);
            return t.id();
        }
    }

    private String[] args(String... a) {
        String[] out = new String[a.length + 4];
        System.arraycopy(a, 0, out, 0, a.length);
        out[a.length] = "--registry";
        out[a.length + 1] = tmp.resolve("registry").toString();
        out[a.length + 2] = "--runs-dir";
        out[a.length + 3] = tmp.resolve("runs").toString();
        return out;
    }

    private String[] reg(String... a) {
        String[] out = new String[a.length + 2];
        System.arraycopy(a, 0, out, 0, a.length);
        out[a.length] = "--registry";
        out[a.length + 1] = tmp.resolve("registry").toString();
        return out;
    }

    @Test
    void pushListShowPromoteAndResolveTheAlias() throws Exception {
        String a = finishedRun("a", "weights-a", 1.5);
        String b = finishedRun("b", "weights-b", 1.25);
        MainTest.Result p1 = MainTest.run(args("registry", "push", a, "--name", "fin-advisor"));
        assertThat(p1.code()).as(p1.err()).isZero();
        assertThat(p1.out()).contains("registered fin-advisor:1 from run " + a);
        MainTest.Result p2 = MainTest.run(args("registry", "push", b, "--name", "fin-advisor", "--alias", "staging"));
        assertThat(p2.out()).contains("registered fin-advisor:2").contains("fin-advisor@staging -> version 2");

        MainTest.Result promote = MainTest.run(reg("registry", "promote", "fin-advisor:1", "--alias", "production"));
        assertThat(promote.code()).as(promote.err()).isZero();
        assertThat(promote.out().strip()).isEqualTo("fin-advisor@production -> version 1");
        assertThat(MainTest.run(reg("registry", "promote", "fin-advisor:2", "--alias", "production")).out().strip())
                .isEqualTo("fin-advisor@production -> version 2 (was 1)");

        MainTest.Result list = MainTest.run(reg("registry", "list"));
        assertThat(list.out().lines().filter(l -> l.startsWith("fin-advisor"))).singleElement().asString()
                .containsPattern("fin-advisor +2 +2 +production=2, staging=2");
        JsonNode listJson = RunJson.MAPPER.readTree(MainTest.run(reg("registry", "list", "--json")).out());
        assertThat(listJson.get(0).get("versions").toString()).isEqualTo("[1,2]");

        MainTest.Result model = MainTest.run(reg("registry", "show", "fin-advisor"));
        assertThat(model.out().lines().filter(l -> l.strip().startsWith("2 "))).singleElement().asString().contains(b).contains("1.25").contains("production,staging");

        MainTest.Result version = MainTest.run(reg("registry", "show", "registry:fin-advisor@production"));
        assertThat(version.code()).as(version.err()).isZero();
        Path adapter = tmp.resolve("registry/fin-advisor/versions/2/adapter").toAbsolutePath();
        assertThat(version.out()).contains("fin-advisor:2").contains(adapter.toString()).contains(b).contains("eval_loss");
        JsonNode vj = RunJson.MAPPER.readTree(MainTest.run(reg("registry", "show", "fin-advisor:1", "--json")).out());
        assertThat(vj.get("run_id").asText()).isEqualTo(a);
        assertThat(vj.at("/adapter/sha256").asText()).isEqualTo(Sha256.hex(tmp.resolve("runs").resolve(a).resolve("adapter")));

        assertThat(Registry.adapterFolder("registry:fin-advisor@production", tmp.resolve("registry"))).isEqualTo(adapter.normalize());
        assertThat(Files.readString(adapter.resolve("adapter_model.safetensors"))).isEqualTo("weights-b");
    }

    @Test
    void requireBetterRefusesAVersionThatScoresWorseThanTheAliasOrIsUnmeasured() throws Exception {
        String good = finishedRun("good", "w-good", Map.of("eval_loss", 1.0, "rouge_l", 0.40));
        String worse = finishedRun("worse", "w-worse", Map.of("eval_loss", 0.9, "rouge_l", 0.35));
        String unmeasured = finishedRun("unmeasured", "w-un", Map.of("eval_loss", 0.8));
        for (String run : List.of(good, worse, unmeasured)) {
            assertThat(MainTest.run(args("registry", "push", run, "--name", "adv")).code()).isZero();
        }
        MainTest.Result first = MainTest.run(reg("registry", "promote", "adv:1", "--alias", "production", "--require-better", "rouge_l"));
        assertThat(first.code()).as("no version under the alias yet: nothing to be worse than").isZero();

        MainTest.Result refused = MainTest.run(reg("registry", "promote", "adv:2", "--alias", "production", "--require-better", "rouge_l"));
        assertThat(refused.code()).isEqualTo(EvalCommand.GATE_MISSED);
        assertThat(refused.err().strip()).isEqualTo("refused: adv:2 has rouge_l 0.3500, worse than 0.4000 of adv:1 (@production, higher is better)");
        assertThat(new Registry(tmp.resolve("registry")).aliases("adv")).containsEntry("production", 1);

        MainTest.Result lowerIsBetter = MainTest.run(reg("registry", "promote", "adv:2", "--alias", "production", "--require-better", "eval_loss"));
        assertThat(lowerIsBetter.code()).as(lowerIsBetter.err()).isZero(); // eval_loss 0.9 < 1.0
        MainTest.Result missing = MainTest.run(reg("registry", "promote", "adv:3", "--alias", "production", "--require-better", "rouge_l"));
        assertThat(missing.code()).isEqualTo(EvalCommand.GATE_MISSED);
        assertThat(missing.err()).contains("adv:3 has no rouge_l").contains("eval.after_training");
        assertThat(new Registry(tmp.resolve("registry")).aliases("adv")).containsEntry("production", 2);
    }

    @Test
    void badRequestsAreOneLineErrorsWithExitCode2() throws Exception {
        String a = finishedRun("a", "w", 1.5);
        MainTest.Result noName = MainTest.run(args("registry", "push", a));
        assertThat(noName.code()).isEqualTo(Main.USER_ERROR);
        assertThat(noName.err()).contains("--name");
        MainTest.Result unknownRun = MainTest.run(args("registry", "push", "nope", "--name", "fin"));
        assertThat(unknownRun.code()).isEqualTo(Main.USER_ERROR);
        assertThat(unknownRun.err()).contains("no run 'nope'");
        MainTest.Result noModel = MainTest.run(reg("registry", "show", "fin:1"));
        assertThat(noModel.code()).isEqualTo(Main.USER_ERROR);
        assertThat(noModel.err().strip()).startsWith("error: no model 'fin' in registry").doesNotContain("\n");
        MainTest.run(args("registry", "push", a, "--name", "fin"));
        MainTest.Result noVersion = MainTest.run(reg("registry", "promote", "fin:4", "--alias", "production"));
        assertThat(noVersion.code()).isEqualTo(Main.USER_ERROR);
        assertThat(noVersion.err()).contains("model 'fin' has no version 4").contains("versions: 1");
        MainTest.Result noVersionGiven = MainTest.run(reg("registry", "promote", "fin", "--alias", "production"));
        assertThat(noVersionGiven.err()).contains("promote needs NAME:VERSION");
        Path aliases = tmp.resolve("registry/fin/aliases.json");
        Files.writeString(aliases, "{\"production\": 1,\n \"staging\": }");
        MainTest.Result corrupt = MainTest.run(reg("registry", "list"));
        assertThat(corrupt.code()).isEqualTo(Main.USER_ERROR);
        assertThat(corrupt.err().strip()).startsWith("error: " + aliases + " line 2");
    }
}
