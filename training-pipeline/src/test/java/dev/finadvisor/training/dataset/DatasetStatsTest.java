package dev.finadvisor.training.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.prompt.FalconTemplate;
import dev.finadvisor.domain.prompt.PromptTemplate;
import dev.finadvisor.domain.qa.QaDataset;
import dev.finadvisor.domain.qa.QaSample;
import dev.finadvisor.training.CourseData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetStatsTest {
    @TempDir
    Path dir;

    /** A word-level tokenizer.json: every whitespace-separated piece is one token, the Falcon EOS an added token. */
    static Path tinyTokenizer(Path dir) throws IOException {
        String json = """
                {"version": "1.0", "truncation": null, "padding": null,
                 "added_tokens": [
                   {"id": 0, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                   {"id": 1, "content": "<|endoftext|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
                 "normalizer": null, "pre_tokenizer": {"type": "WhitespaceSplit"}, "post_processor": null, "decoder": null,
                 "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "<|endoftext|>": 1, "the": 2}, "unk_token": "[UNK]"}}
                """;
        Files.writeString(dir.resolve("tokenizer.json"), json);
        return dir;
    }

    /** The reference count for the tiny tokenizer, computed without it. */
    static int referenceCount(String text) {
        String spaced = text.replace("<|endoftext|>", " <|endoftext|> ").strip();
        return spaced.isEmpty() ? 0 : spaced.split("\\s+").length;
    }

    @Test
    void countsTokensOfRenderedSamplesWithoutTruncatingAt512() throws IOException {
        QaSample shortOne = new QaSample("I'm 30.", "Rates rise.", "Should I buy bonds?", "Short ones, yes.");
        QaSample longAnswer = new QaSample("I'm 40.", "Stocks fall.", "What now?", "word ".repeat(700).strip());
        QaSample longPrompt = new QaSample("I'm 50.", "news ".repeat(600).strip(), "And now?", "Hold.");
        QaDataset data = QaDataset.of(List.of(shortOne, longAnswer, longPrompt), QaDataset.Options.TRAINING);
        PromptTemplate falcon = new FalconTemplate();
        try (TokenCounter counter = TokenCounter.open(tinyTokenizer(dir))) {
            for (QaSample s : data) {
                String text = falcon.render(s, true).text();
                assertThat(counter.count(text)).isEqualTo(referenceCount(text));
            }
            assertThat(counter.count("word ".repeat(2000))).isEqualTo(2000);

            DatasetStats stats = DatasetStats.of(data, falcon, counter, 100);
            DatasetStats.TokenStats t = stats.tokens();
            int[] totals = data.stream().mapToInt(s -> referenceCount(falcon.render(s, true).text())).toArray();
            assertThat(t.total().max()).isEqualTo(Math.max(totals[0], Math.max(totals[1], totals[2]))).isGreaterThan(700);
            assertThat(t.total().min()).isEqualTo(totals[0]);
            assertThat(t.overLimit()).isEqualTo(2);
            assertThat(t.answerLost()).isEqualTo(1);
            assertThat(t.overLimitRecords()).containsExactly(2, 3);
            // answer tokens: the response's words plus the end-of-text token
            assertThat(t.answer().max()).isEqualTo(701);
            assertThat(stats.report()).contains("over 100     2 records would be cut (1 lose their whole answer): records [2, 3]");
        }
    }

    @Test
    void statsOfTheCourseDataset() {
        Path file = CourseData.trainingData();
        DatasetStats stats = DatasetStats.of(QaDataset.load(file), null, null, 0);
        assertThat(stats.records()).isEqualTo(125);
        assertThat(stats.duplicates()).isEmpty();
        assertThat(stats.withHistory()).isZero();
        assertThat(stats.changedByCleaning()).isGreaterThan(100);
        assertThat(stats.words().get("response").max()).isLessThan(120);
        assertThat(stats.tokens()).isNull();
        assertThat(stats.report()).startsWith("records       125 (JSON array)\n").contains("duplicates    0 groups");
    }

    @Test
    void missingTokenizerIsAClearError() {
        assertThatThrownBy(() -> TokenCounter.open(dir)).isInstanceOf(UserError.class)
                .hasMessageContaining("no tokenizer.json");
    }

    @Test
    void countsWithARealBpeTokenizerAndTheCheckpointsChatTemplate() throws IOException {
        Path model = dev.finadvisor.llm.RandomCheckpoint.tiny("llama").write(dir.resolve("model"));
        PromptTemplate template = dev.finadvisor.domain.prompt.PromptTemplates.byName("model", model);
        QaDataset data = QaDataset.of(new SyntheticQaGenerator(NewsSample.bundled()).generate(40, 3), QaDataset.Options.TRAINING);
        try (TokenCounter counter = TokenCounter.open(model);
                dev.finadvisor.llm.tokenizer.Tokenizer reference = dev.finadvisor.llm.tokenizer.Tokenizer.load(model)) {
            DatasetStats stats = DatasetStats.of(data, template, counter, 120);
            int[] totals = new int[data.size()];
            int over = 0;
            for (int i = 0; i < data.size(); i++) {
                // The checkpoint's template is ChatML: the built-in one must render the same text.
                String text = new dev.finadvisor.domain.prompt.ChatMlTemplate().render(data.get(i), true).text();
                assertThat(template.render(data.get(i), true).text()).isEqualTo(text);
                totals[i] = reference.encode(text, false).length;
                if (totals[i] > 120) over++;
            }
            assertThat(stats.tokens().total().max()).isEqualTo(java.util.Arrays.stream(totals).max().orElseThrow());
            assertThat(stats.tokens().total().min()).isEqualTo(java.util.Arrays.stream(totals).min().orElseThrow());
            assertThat(stats.tokens().overLimit()).isEqualTo(over);
            assertThat(stats.tokens().template()).isEqualTo("model");
        }
    }
}
