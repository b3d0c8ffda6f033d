package dev.finadvisor.training.sft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.finadvisor.domain.config.ConfigException;
import dev.finadvisor.domain.config.ConfigLoader;
import dev.finadvisor.training.CourseData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SftConfigTest {
    @TempDir Path dir;
    private Path train;

    @BeforeEach
    void files() throws IOException {
        train = Files.writeString(dir.resolve("train.json"), "[]");
    }

    private SftConfig load(String... sets) {
        List<String> all = new ArrayList<>(List.of("model.id=/models/tiny", "data.train=" + train));
        all.addAll(List.of(sets));
        return new ConfigLoader().load(SftConfig.class, SftConfig.DEFAULTS, null, all).value();
    }

    @Test
    void defaultsAreTheCoursesSettings() {
        SftConfig c = load();
        assertThat(c.lora().r()).isEqualTo(64);
        assertThat(c.lora().alpha()).isEqualTo(16);
        assertThat(c.lora().target_modules()).containsExactly("query_key_value");
        assertThat(c.quantization()).isEqualTo("none");
        assertThat(c.training().gradient_accumulation_steps()).isEqualTo(4);
        assertThat(c.training().learning_rate()).isEqualTo(2e-4);
        assertThat(c.training().lr_scheduler_type()).isEqualTo("constant");
        assertThat(c.training().max_grad_norm()).isEqualTo(0.3);
        assertThat(c.training().seed()).isEqualTo(42);
        assertThat(c.model().template()).isEqualTo("falcon");
    }

    @Test
    void aFileAndOverridesApplyInOrder() throws IOException {
        Path f = Files.writeString(dir.resolve("c.yaml"), "lora: {r: 8, target_modules: [q_proj, v_proj]}\nquantization: nf4\n");
        SftConfig c = new ConfigLoader().load(SftConfig.class, SftConfig.DEFAULTS, f,
                List.of("model.id=m", "data.train=" + train, "lora.r=16")).value();
        assertThat(c.lora().r()).isEqualTo(16);
        assertThat(c.lora().target_modules()).containsExactly("q_proj", "v_proj");
        assertThat(c.quantization()).isEqualTo("nf4");
    }

    @Test
    void missingRequiredKeysAreNamed() {
        assertThatThrownBy(() -> new ConfigLoader().load(SftConfig.class, SftConfig.DEFAULTS, null, List.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("'model.id' is missing").hasMessageContaining("'data.train' is missing");
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
        "model.template|alpaca|must be one of",
        "model.max_seq_length|0|must be between",
        "data.train|/no/such/file.json|not a readable file",
        "data.validation|/no/such/val.json|not a readable file",
        "data.validation_fraction|0.95|must be between",
        "lora.r|0|must be between",
        "lora.alpha|-1|above 0",
        "lora.dropout|1.0|below 1",
        "lora.target_modules|[]|is empty",
        "lora.target_modules|['q proj']|not a module name",
        "quantization|int8|must be one of",
        "training.per_device_train_batch_size|0|must be between",
        "training.gradient_accumulation_steps|0|must be between",
        "training.learning_rate|0|above 0",
        "training.learning_rate|5|at most 1",
        "training.weight_decay|-0.1|must be between",
        "training.adam_beta1|1|below 1",
        "training.adam_beta2|-0.5|at least 0",
        "training.adam_epsilon|0|above 0",
        "training.lr_scheduler_type|cosin|did you mean 'cosine'",
        "training.warmup_ratio|1.5|below 1",
        "training.warmup_steps|-3|must be between",
        "training.max_grad_norm|-1|must be between",
        "training.num_train_epochs|0|above 0",
        "training.max_steps|0|must be -1",
        "training.logging_steps|0|must be between",
        "training.eval_steps|0|must be between",
        "training.save_steps|0|must be between",
        "training.save_total_limit|0|must be between",
        "training.seed|abc|expected a whole number",
        "training.load_best_model_at_end|maybe|expected true or false",
        "output_dir|''|is missing or empty",
        "training.learning_rat|1e-4|did you mean 'learning_rate'",
    })
    void eachBadValueIsRejectedNamingTheKey(String key, String value, String message) {
        assertThatThrownBy(() -> load(key + "=" + value))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(key)
                .hasMessageContaining(message);
    }

    @Test
    void theShippedCourseConfigIsValid() throws IOException {
        Path root = CourseData.repositoryRoot();
        Path config = root.resolve("training-pipeline/configs/falcon-qlora.yaml");
        // data.train is read relative to the working folder, and the README runs ./finadvisor from the repository root
        String train = new ObjectMapper(new YAMLFactory()).readTree(config.toFile()).at("/data/train").asText();
        assertThat(root.resolve(train)).isEqualTo(CourseData.trainingData());
        SftConfig c = new ConfigLoader().load(SftConfig.class, SftConfig.DEFAULTS, config,
                List.of("data.train=" + root.resolve(train))).value();
        assertThat(c.quantization()).isEqualTo("nf4");
        assertThat(c.lora().target_modules()).containsExactly("query_key_value");
        assertThat(c.training().gradient_checkpointing()).isTrue();
    }

    @Test
    void maxStepsReplacesEpochs() {
        SftConfig c = load("training.num_train_epochs=0", "training.max_steps=10");
        assertThat(c.training().max_steps()).isEqualTo(10);
    }
}
