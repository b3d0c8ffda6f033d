package dev.finadvisor.llm.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finadvisor.llm.RandomCheckpoint;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTest {
    @TempDir
    static Path dir;
    static Path llama;
    static Path falcon;

    @BeforeAll
    static void checkpoints() throws Exception {
        llama = RandomCheckpoint.tiny("llama").write(dir.resolve("llama"));
        falcon = RandomCheckpoint.tiny("falcon").write(dir.resolve("falcon"));
    }

    @Test
    void longTextsAreNeverTruncated() {
        String text = "The stock market rallied today as investors weighed the report. ".repeat(80);
        try (Tokenizer t = Tokenizer.load(llama)) {
            int[] ids = t.encode(text, false);
            assertThat(ids.length).isGreaterThan(600);
            assertThat(t.decode(ids, true)).isEqualTo(text);
        }
    }

    @Test
    void specialTokensComeFromTheCheckpointConfigs() {
        try (Tokenizer t = Tokenizer.load(llama)) {
            assertThat(t.bosId()).isEqualTo(1);
            assertThat(t.eosIds()).containsExactly(2);
            assertThat(t.padId()).isZero();
            assertThat(t.tokenId("<|im_end|>")).isEqualTo(4);
            assertThat(t.vocabSize()).isEqualTo(384);
        }
    }

    @Test
    void llamaTokenizersPrependBosAndFalconsDoNot() {
        try (Tokenizer l = Tokenizer.load(llama); Tokenizer f = Tokenizer.load(falcon)) {
            assertThat(l.encode("stock market", true)[0]).isEqualTo(1);
            assertThat(l.encode("stock market", false)[0]).isNotEqualTo(1);
            assertThat(f.encode("stock market", true)).containsExactly(f.encode("stock market", false));
        }
    }

    @Test
    void streamingNeverSplitsACharacterAndAddsUpToTheWholeText() {
        String text = "Prices in € rose 5% — 日本株 rallied 🙂 and the market cheered";
        try (Tokenizer t = Tokenizer.load(llama)) {
            int[] ids = t.encode(text, false);
            StreamingDecoder d = t.streamingDecoder();
            StringBuilder streamed = new StringBuilder();
            int held = 0;
            for (int id : ids) {
                String delta = d.add(id);
                if (delta.isEmpty()) held++;
                assertThat(delta).doesNotContain("\uFFFD");
                if (!delta.isEmpty()) {
                    assertThat(Character.isLowSurrogate(delta.charAt(0))).isFalse();
                    assertThat(Character.isHighSurrogate(delta.charAt(delta.length() - 1))).isFalse();
                }
                streamed.append(delta);
            }
            streamed.append(d.flush());
            assertThat(held).as("some tokens hold part of a multi-byte character").isPositive();
            assertThat(streamed.toString()).isEqualTo(text).isEqualTo(d.text());
        }
    }
}
