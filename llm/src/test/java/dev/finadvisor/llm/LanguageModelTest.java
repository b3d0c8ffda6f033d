package dev.finadvisor.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LanguageModelTest {
    @TempDir
    static Path dir;
    static LanguageModel lm;
    static int[] prompt;

    @BeforeAll
    static void load() throws Exception {
        lm = LanguageModel.load(RandomCheckpoint.tiny("llama").write(dir.resolve("llama")));
        prompt = lm.tokenizer().encode("The stock market", true);
    }

    @AfterAll
    static void close() {
        lm.close();
    }

    private static GenerationResult run(GenerationConfig c, List<String> deltas) {
        return lm.generate(prompt, c, (id, delta) -> deltas.add(delta), () -> false);
    }

    @Test
    void generationStopsAtMaxNewTokensAndStreamsTheWholeText() {
        List<String> deltas = new ArrayList<>();
        GenerationResult r = run(GenerationConfig.greedy(12), deltas);
        assertThat(r.finishReason()).isEqualTo("length");
        assertThat(r.generatedIds()).hasSize(12);
        assertThat(r.promptIds()).containsExactly(prompt);
        assertThat(String.join("", deltas)).isEqualTo(r.text());
        assertThat(r.text()).isEqualTo(lm.tokenizer().decode(r.generatedIds(), true));
        assertThat(r.decodeTokensPerSecond()).isPositive();
    }

    @Test
    void sampledGenerationIsReproducibleFromItsSeed() {
        GenerationConfig c = new GenerationConfig(12, 1.2, 50, 0.95, 1.1, 1234, List.of());
        GenerationResult a = run(c, new ArrayList<>());
        GenerationResult b = run(c, new ArrayList<>());
        assertThat(a.generatedIds()).containsExactly(b.generatedIds());
        boolean anyDiffers = false;
        for (long seed = 1; seed < 6 && !anyDiffers; seed++) {
            GenerationResult other = run(new GenerationConfig(12, 1.2, 50, 0.95, 1.1, seed, List.of()), new ArrayList<>());
            anyDiffers = !java.util.Arrays.equals(other.generatedIds(), a.generatedIds());
        }
        assertThat(anyDiffers).as("other seeds give other samples").isTrue();
    }

    @Test
    void aStopStringEndsGenerationAndIsNeverStreamed() {
        GenerationResult full = run(GenerationConfig.greedy(16), new ArrayList<>());
        String text = full.text();
        assertThat(text.length()).isGreaterThan(6);
        String stop = text.substring(text.length() / 2, text.length() / 2 + 3);
        int cut = text.indexOf(stop);
        List<String> deltas = new ArrayList<>();
        GenerationResult r = run(new GenerationConfig(16, 0, 0, 1, 1, 0, List.of(stop)), deltas);
        assertThat(r.finishReason()).isEqualTo("stop");
        assertThat(r.text()).isEqualTo(text.substring(0, cut));
        assertThat(String.join("", deltas)).isEqualTo(r.text());
        assertThat(r.generatedIds().length).isLessThanOrEqualTo(full.generatedIds().length);
    }

    @Test
    void anEndOfSequenceTokenEndsGeneration() throws Exception {
        GenerationResult full = run(GenerationConfig.greedy(8), new ArrayList<>());
        int third = full.generatedIds()[2];
        Path ckpt = RandomCheckpoint.tiny("llama").write(dir.resolve("eos"));
        // declare the token greedy decoding produces third to be this checkpoint's end of sequence
        new ObjectMapper().writeValue(ckpt.resolve("generation_config.json").toFile(), Map.of("eos_token_id", List.of(2, third)));
        Files.writeString(ckpt.resolve("tokenizer_config.json"), "{}");
        try (LanguageModel m = LanguageModel.load(ckpt)) {
            GenerationResult r = m.generate(prompt, GenerationConfig.greedy(8), TokenListener.NONE, () -> false);
            int firstEos = 0;
            while (full.generatedIds()[firstEos] != third) firstEos++;
            assertThat(r.finishReason()).isEqualTo("eos");
            assertThat(r.generatedIds()).containsExactly(java.util.Arrays.copyOf(full.generatedIds(), firstEos + 1));
        }
    }

    @Test
    void cancellationStopsBetweenTokens() {
        AtomicInteger calls = new AtomicInteger();
        GenerationResult r = lm.generate(prompt, GenerationConfig.greedy(20), TokenListener.NONE, () -> calls.incrementAndGet() > 3);
        assertThat(r.finishReason()).isEqualTo("cancelled");
        assertThat(r.generatedIds()).hasSize(3);
    }

    @Test
    void contextOverflowIsAClearError() {
        int[] longPrompt = new int[250];
        java.util.Arrays.fill(longPrompt, 40);
        assertThatThrownBy(() -> lm.generate(longPrompt, GenerationConfig.greedy(10), TokenListener.NONE, () -> false))
                .isInstanceOf(UserError.class).hasMessageContaining("250 tokens").hasMessageContaining("context of 256")
                .hasMessageContaining("at most 6");
    }

    @Test
    void idsOutsideTheVocabularyAreRefused() {
        assertThatThrownBy(() -> lm.generate(new int[] {1, 5000}, GenerationConfig.greedy(1), TokenListener.NONE, () -> false))
                .isInstanceOf(UserError.class).hasMessageContaining("prompt token 1 is id 5000");
        assertThatThrownBy(() -> lm.generate(new int[0], GenerationConfig.greedy(1), TokenListener.NONE, () -> false))
                .hasMessageContaining("empty");
    }
}
