package dev.finadvisor.app;

import static dev.finadvisor.app.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.finadvisor.app.MainTest.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetCommandTest {
    @TempDir
    Path dir;

    /** The course's 125 samples, committed at data/hands-on-llms/ (MIT, see its README) under the repository root. */
    static Path courseTrainingData() {
        String root = System.getProperty("finadvisor.root.dir");
        if (root == null) {
            throw new IllegalStateException("system property finadvisor.root.dir (the repository root) is not set;"
                    + " the root pom's surefire configuration sets it: run the tests with mvn from the repository root");
        }
        Path file = Path.of(root, "data", "hands-on-llms", "training_data.json");
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException(file + " is missing: finadvisor.root.dir=" + root + " is not the repository root");
        }
        return file;
    }

    @Test
    void aMissingInputFileSaysNoSuchFile() {
        MainTest.Result news = MainTest.run("dataset", "synth", "--n", "1", "--out", dir.resolve("x.jsonl").toString(), "--news", dir.resolve("nope.jsonl").toString());
        assertThat(news.code()).isEqualTo(Main.USER_ERROR);
        assertThat(news.err().strip()).endsWith("nope.jsonl: no such file");
        MainTest.Result stats = MainTest.run("dataset", "stats", dir.resolve("nope.json").toString());
        assertThat(stats.code()).isEqualTo(Main.USER_ERROR);
        assertThat(stats.err().strip()).endsWith("nope.json: no such file");
    }

    @Test
    void synthWritesTheSameFileForTheSameSeedAndStatsReadsIt() throws IOException {
        Path a = dir.resolve("a.jsonl");
        Path b = dir.resolve("b.jsonl");
        Result r = run("dataset", "synth", "--n", "60", "--seed", "7", "--out", a.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("wrote 60 samples to " + a).contains("bundled sample, 58 articles; seed 7");
        assertThat(run("dataset", "synth", "--n", "60", "--seed", "7", "--out", b.toString()).code()).isZero();
        assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));
        assertThat(Files.readAllLines(a)).hasSize(60);

        Result stats = run("dataset", "stats", a.toString());
        assertThat(stats.code()).as(stats.err()).isZero();
        assertThat(stats.out()).startsWith("records       60 (JSON Lines)").contains("duplicates    0 groups")
                .contains("extra fields  {news_id=60, profile=60, source=60, topic=60}");
    }

    @Test
    void synthRefusesToOverwriteWithoutForce() throws IOException {
        Path out = Files.writeString(dir.resolve("mine.jsonl"), "precious\n");
        Result r = run("dataset", "synth", "--n", "5", "--out", out.toString());
        assertThat(r.code()).isEqualTo(Main.USER_ERROR);
        assertThat(r.err()).contains("exists; pass --force");
        assertThat(Files.readString(out)).isEqualTo("precious\n");
        assertThat(run("dataset", "synth", "--n", "5", "--out", out.toString(), "--force").code()).isZero();
        assertThat(Files.readAllLines(out)).hasSize(5);
    }

    @Test
    void statsOfTheCourseDataWithTokenCounts() throws IOException {
        Path course = courseTrainingData();
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"version": "1.0", "truncation": null, "padding": null,
                 "added_tokens": [{"id": 0, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
                 "normalizer": null, "pre_tokenizer": {"type": "WhitespaceSplit"}, "post_processor": null, "decoder": null,
                 "model": {"type": "WordLevel", "vocab": {"[UNK]": 0}, "unk_token": "[UNK]"}}
                """);
        Result r = run("dataset", "stats", course.toString(), "--tokenizer", dir.toString(), "--max-seq-length", "64");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("records       125 (JSON array)").contains("tokens        template falcon")
                .containsPattern("over 64 +[0-9]+ records would be cut");
    }

    @Test
    void badDatasetIsExitCode2WithEveryProblemListed() throws IOException {
        Path bad = Files.writeString(dir.resolve("bad.jsonl"),
                "{\"about_me\": \"a\", \"context\": \"c\", \"question\": \"q\"}\n{\"about_me\": \"a\", \"context\": \"\", \"question\": \"q\", \"response\": \"r\"}\n");
        Result r = run("dataset", "stats", bad.toString());
        assertThat(r.code()).isEqualTo(Main.USER_ERROR);
        assertThat(r.err()).contains("2 problems").contains("record 1 (line 1): missing field 'response'")
                .contains("record 2 (line 2): field 'context' is empty");
        assertThat(run("dataset", "stats", bad.toString(), "--allow-missing-response").err())
                .doesNotContain("missing field 'response'").contains("field 'context' is empty");

        Path notJson = Files.writeString(dir.resolve("x.csv"), "a,b\n");
        Result r2 = run("dataset", "stats", notJson.toString());
        assertThat(r2.code()).isEqualTo(Main.USER_ERROR);
        assertThat(r2.err().strip()).doesNotContain("\n").contains("is not JSON");
    }

    @Test
    void maxSeqLengthWithoutTokenizerAndUnknownTemplateAreUserErrors() throws IOException {
        Path course = courseTrainingData();
        assertThat(run("dataset", "stats", course.toString(), "--max-seq-length", "10").err()).contains("needs --tokenizer");
        Result r = run("dataset", "stats", course.toString(), "--template", "chatlm");
        assertThat(r.code()).isEqualTo(Main.USER_ERROR);
        assertThat(r.err()).contains("did you mean 'chatml'");
        assertThat(run("dataset").out()).contains("stats").contains("synth");
    }
}
