package dev.finadvisor.domain.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    enum Scheduler { constant, linear, cosine }

    record Model(String id, int max_seq_length) {}

    record Lora(int r, double alpha, double dropout, List<String> target_modules) implements Validated {
        @Override
        public void validate(Problems p) {
            p.requireRange("r", r, 1, 1024);
            p.requireRange("dropout", dropout, 0.0, 1.0);
        }
    }

    record Training(double learning_rate, Scheduler scheduler, boolean packing) {}

    record Sample(Model model, Lora lora, Training training) implements Validated {
        @Override
        public void validate(Problems p) {
            p.requireNonBlank("model.id", model.id());
            p.requireRange("model.max_seq_length", model.max_seq_length(), 16, 1 << 20);
            p.nested("lora", lora);
        }
    }

    static final String DEFAULTS = "sample-defaults.yaml";

    @TempDir Path dir;
    final ConfigLoader loader = new ConfigLoader();

    private Path file(String yaml) throws IOException {
        Path f = dir.resolve("train.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    private Sample load(Path file, String... sets) {
        return loader.load(Sample.class, DEFAULTS, file, List.of(sets)).value();
    }

    @Test
    void defaultsApplyWhenNoFileIsGiven() {
        Sample s = load(null);
        assertThat(s.model()).isEqualTo(new Model("tiny", 512));
        assertThat(s.lora()).isEqualTo(new Lora(8, 16, 0.05, List.of("q_proj", "v_proj")));
        assertThat(s.training().scheduler()).isEqualTo(Scheduler.constant);
    }

    @Test
    void fileOverridesDefaultsKeyByKeyAndSetOverridesTheFile() throws IOException {
        Path f = file("lora:\n  r: 64\ntraining:\n  scheduler: cosine\n");
        Sample s = load(f, "lora.r=16", "lora.target_modules=[query_key_value, dense]", "model.id=org/name@main");
        assertThat(s.lora().r()).isEqualTo(16);
        assertThat(s.lora().alpha()).isEqualTo(16); // kept from defaults
        assertThat(s.lora().target_modules()).containsExactly("query_key_value", "dense");
        assertThat(s.training().scheduler()).isEqualTo(Scheduler.cosine);
        assertThat(s.model().id()).isEqualTo("org/name@main");
        assertThat(s.model().max_seq_length()).isEqualTo(512);
    }

    @Test
    void unknownKeyNamesFileKeyKnownKeysAndNearestOne() throws IOException {
        Path f = file("lora:\n  alpah: 4\n");
        assertThatThrownBy(() -> load(f))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(f.toString())
                .hasMessageContaining("unknown key 'lora.alpah'")
                .hasMessageContaining("did you mean 'alpha'?")
                .hasMessageContaining("alpha, dropout, r, target_modules");
    }

    @Test
    void unknownTopLevelKeyFromSetNamesTheOverride() {
        assertThatThrownBy(() -> load(null, "trainig.learning_rate=1"))
                .hasMessageStartingWith("--set trainig.learning_rate=1: unknown key 'trainig'")
                .hasMessageContaining("did you mean 'training'?");
    }

    @Test
    void wrongTypesNameKeyValueAndExpectedType() throws IOException {
        Path f = file("lora:\n  r: eight\n");
        assertThatThrownBy(() -> load(f)).hasMessage(f + ": 'lora.r' is 'eight', expected a whole number");
        assertThatThrownBy(() -> load(null, "lora.r=8.5")).hasMessageContaining("'lora.r' is '8.5', expected a whole number");
        assertThatThrownBy(() -> load(null, "training.scheduler=cosin"))
                .hasMessageContaining("'training.scheduler' is 'cosin', expected one of [constant, linear, cosine]");
        assertThatThrownBy(() -> load(null, "lora={a: 1}")).hasMessageContaining("unknown key 'lora.a'");
        assertThatThrownBy(() -> load(null, "model.id.x=1")).hasMessageContaining("'model.id' is a value, not a section");
        assertThatThrownBy(() -> load(null, "lora.r")).hasMessageContaining("expected KEY=VALUE");
    }

    @Test
    void outOfRangeValuesAreAllReportedWithTheirOrigin() throws IOException {
        Path f = file("lora:\n  r: 0\n  dropout: 1.5\n");
        assertThatThrownBy(() -> load(f, "model.max_seq_length=4"))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                        "--set model.max_seq_length=4: 'model.max_seq_length' is 4, must be between 16 and 1048576",
                        f + ": 'lora.r' is 0, must be between 1 and 1024",
                        f + ": 'lora.dropout' is 1.5, must be between 0 and 1"));
    }

    @Test
    void everyBadKeyIsReportedAtOnce() throws IOException {
        Path f = file("lora:\n  r: eight\n  alpah: 1\n  dropout: 1.5\ntraining:\n  scheduler: cosin\n  packing: maybe\n");
        assertThatThrownBy(() -> load(f, "model.idd=x"))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactlyInAnyOrder(
                        f + ": 'lora.r' is 'eight', expected a whole number",
                        f + ": unknown key 'lora.alpah' (did you mean 'alpha'?); known keys under 'lora': alpha, dropout, r,"
                                + " target_modules",
                        f + ": 'lora.dropout' is 1.5, must be between 0 and 1",
                        f + ": 'training.scheduler' is 'cosin', expected one of [constant, linear, cosine]",
                        f + ": 'training.packing' is 'maybe', expected true or false",
                        "--set model.idd=x: unknown key 'model.idd' (did you mean 'id'?); known keys under 'model': id,"
                                + " max_seq_length"))
                .hasMessageStartingWith("6 configuration problems:");
    }

    @Test
    void malformedYamlGivesLineAndColumn() throws IOException {
        Path f = file("lora:\n  r: [1, 2\n");
        assertThatThrownBy(() -> load(f)).hasMessageStartingWith(f + " line ").hasMessageContaining("not valid YAML");
        assertThatThrownBy(() -> load(dir.resolve("nope.yaml"))).hasMessageContaining("no such configuration file");
        Path list = file("- a\n- b\n");
        assertThatThrownBy(() -> load(list)).hasMessageContaining("top level must be a mapping");
    }

    @Test
    void resolvedTreeHoldsTheMergedValues() {
        var loaded = loader.load(Sample.class, DEFAULTS, null, List.of("lora.r=32"));
        assertThat(loaded.tree().at("/lora/r").asInt()).isEqualTo(32);
        assertThat(loaded.tree().at("/model/id").asText()).isEqualTo("tiny");
    }

    @Test
    void secretsComeFromTheEnvironmentAndNeverPrint() throws Exception {
        Secrets secrets = new Secrets(Map.of("ALPACA_API_KEY", "AKxyz123", "HF_TOKEN", "  "));
        Secret key = secrets.get(Secrets.ALPACA_API_KEY).orElseThrow();
        assertThat(key.reveal()).isEqualTo("AKxyz123");
        assertThat(key.toString()).isEqualTo("****");
        assertThat(new ObjectMapper().writeValueAsString(Map.of("key", key))).isEqualTo("{\"key\":\"****\"}");
        assertThat(String.valueOf(List.of(key))).doesNotContain("AKxyz123");
        assertThat(secrets.get(Secrets.HF_TOKEN)).isEmpty(); // blank is unset
        assertThatThrownBy(() -> secrets.require(Secrets.ALPACA_API_SECRET, "to stream Alpaca news"))
                .hasMessageContaining("ALPACA_API_SECRET is not set")
                .hasMessageContaining("to stream Alpaca news");
    }

    @Test
    void suggestionsNeedToBeClose() {
        assertThat(Suggest.nearest("learnig_rate", List.of("learning_rate", "seed"))).contains("learning_rate");
        assertThat(Suggest.nearest("zzz", List.of("learning_rate", "seed"))).isEmpty();
    }
}
