package dev.finadvisor.domain.qa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.finadvisor.domain.qa.QaDataset.InvalidDatasetException;
import dev.finadvisor.domain.qa.QaDataset.Problem;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QaDatasetTest {
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
    void loadsTheCoursesTrainingDataAsIs() {
        QaDataset data = QaDataset.load(courseTrainingData());
        assertThat(data).hasSize(125);
        assertThat(data.format()).isEqualTo(QaDataset.Format.JSON_ARRAY);
        QaSample first = data.get(0);
        assertThat(first.aboutMe()).isEqualTo("I'm a 26 year old investor.\nI want to explore opportunities in emerging markets.");
        assertThat(first.question()).isEqualTo("\nHow do you view the growth potential of Eastern European markets?");
        assertThat(first.response()).startsWith("\nEastern European markets have great potential for growth.");
        assertThat(data).allSatisfy(s -> {
            assertThat(s.response()).isNotBlank();
            assertThat(s.chatHistory()).isEmpty();
            assertThat(s.extra()).isEmpty();
        });
    }

    @Test
    void reportsEveryProblemOfAJsonLinesFileAtOnce() throws IOException {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        line(file, "{\"about_me\": \"a\", \"context\": \"c\", \"question\": \"q\", \"response\": \"r\"}");
        line(file, "{\"about_me\": \"a\", \"context\": \"c\", \"question\": \"q\"}");
        line(file, "{\"about_me\": \"a\", \"context\": \"c\", \"question\": \"  \", \"response\": \"r\"}");
        line(file, "");
        line(file, "{\"about_me\": \"a\", \"context\": 42, \"question\": \"q\", \"response\": \"r\"}");
        line(file, "{\"about_me\": \"a\", \"context\": \"c\", \"question\": \"q\", \"response\": \"" + "x".repeat(101) + "\"}");
        file.write("{\"about_me\": \"a\", \"context\": \"c\", \"question\": \"q\", \"response\": \"bad ".getBytes(StandardCharsets.UTF_8));
        file.write(new byte[] {(byte) 0xC3, (byte) 0x28});
        line(file, " bytes\"}");
        line(file, "{\"about_me\": \"a\", \"context\": \"c\", \"question\": \"q\", \"response\": ");
        line(file, "{\"about_me\": null, \"question\": [\"q\"], \"response\": \"r\"}");
        Path path = dir.resolve("bad.jsonl");
        Files.write(path, file.toByteArray());

        InvalidDatasetException e = catchThrowableOfType(InvalidDatasetException.class,
                () -> QaDataset.load(path, new QaDataset.Options(true, 100)));
        assertThat(e.problems()).extracting(Problem::record, Problem::line).containsExactly(
                tuple(2, 2), tuple(3, 3), tuple(4, 5), tuple(5, 6), tuple(6, 7), tuple(7, 8), tuple(8, 9), tuple(8, 9), tuple(8, 9));
        assertThat(e.problems()).extracting(Problem::message).satisfiesExactly(
                m -> assertThat(m).isEqualTo("missing field 'response'"),
                m -> assertThat(m).isEqualTo("field 'question' is empty"),
                m -> assertThat(m).isEqualTo("field 'context' is a number (42), expected a string"),
                m -> assertThat(m).isEqualTo("field 'response' has 101 characters, over the limit of 100"),
                m -> assertThat(m).startsWith("field 'response' is not valid UTF-8 (near 'bad \\x??( bytes')"),
                m -> assertThat(m).startsWith("not valid JSON ("),
                m -> assertThat(m).isEqualTo("field 'about_me' is null"),
                m -> assertThat(m).isEqualTo("missing field 'context'"),
                m -> assertThat(m).startsWith("field 'question' is a list ([\"q\"])"));
        assertThat(e.getMessage()).startsWith(path + ": 9 problems (nothing loaded")
                .contains("\n  record 2 (line 2): missing field 'response'")
                .contains("\n  record 8 (line 9): missing field 'context'");
    }

    @Test
    void reportsProblemsOfAJsonArrayWithRecordNumbersAndLines() throws IOException {
        Path path = write("bad.json", """
                [
                  {"about_me": "a", "context": "c", "question": "q", "response": "r"},
                  {"about_me": "a", "context": "c", "question": "q", "response": ""},
                  "just a string",
                  {"about_me": "a", "context": "c", "question": "q", "response": "r",
                   "chat_history": [{"question": "q0"}, 7]}
                ]
                """);
        InvalidDatasetException e = catchThrowableOfType(InvalidDatasetException.class, () -> QaDataset.load(path));
        assertThat(e.problems()).extracting(Problem::toString).containsExactly(
                "record 2 (line 3): field 'response' is empty",
                "record 3 (line 4): is a string (\"just a string\"), expected an object with about_me, context, question, response",
                "record 4 (line 5): missing field 'chat_history[0].answer'",
                "record 4 (line 5): field 'chat_history[1]' is a number (7), expected an object with question and answer");
    }

    @Test
    void syntaxErrorInAnArrayStopsReadingButKeepsTheProblemsFoundBeforeIt() throws IOException {
        Path path = write("broken.json", """
                [
                  {"about_me": "a", "context": "c", "question": "q"},
                  {"about_me": "a", "context": "c" "question": "q", "response": "r"},
                  {"about_me": "a"}
                ]
                """);
        InvalidDatasetException e = catchThrowableOfType(InvalidDatasetException.class, () -> QaDataset.load(path));
        assertThat(e.problems()).hasSize(2);
        assertThat(e.problems().get(0).toString()).isEqualTo("record 1 (line 2): missing field 'response'");
        assertThat(e.problems().get(1).toString()).startsWith("record 2 (line 3): not valid JSON (")
                .endsWith("; records after it were not read");
    }

    @Test
    void fileThatIsNotJsonIsOneClearError() throws IOException {
        Path path = write("notes.txt", "about_me,context,question,response\nme,news,why,because\n");
        assertThatThrownBy(() -> QaDataset.load(path))
                .isInstanceOf(InvalidDatasetException.class)
                .hasMessage(path + " is not JSON (it starts with 'about_me,context,que'): give a JSON array of records or JSON Lines,"
                        + " one {\"about_me\", \"context\", \"question\", \"response\"} object per line (nothing loaded)");
        assertThatThrownBy(() -> QaDataset.load(write("empty.json", "  \n")))
                .isInstanceOf(InvalidDatasetException.class).hasMessageContaining("is empty: no records");
        assertThatThrownBy(() -> QaDataset.load(write("none.json", "[]")))
                .isInstanceOf(InvalidDatasetException.class).hasMessageContaining("holds no records");
        assertThatThrownBy(() -> QaDataset.load(dir.resolve("missing.json")))
                .hasMessageContaining("cannot read dataset").hasMessageContaining("missing.json: no such file");
    }

    @Test
    void prettyPrintedSingleObjectIsNamedAsSuch() throws IOException {
        Path path = write("one.json", "{\n  \"about_me\": \"a\",\n  \"context\": \"c\",\n  \"question\": \"q\",\n  \"response\": \"r\"\n}\n");
        assertThatThrownBy(() -> QaDataset.load(path)).hasMessageContaining("holds a single JSON object spread over several lines");
    }

    @Test
    void keepsExtraFieldsAndRoundTripsThroughBothFormats() throws IOException {
        Path path = write("extra.jsonl",
                "{\"about_me\": \"a\", \"context\": \"c\", \"question\": \"q\", \"response\": \"r\", \"id\": 7, \"tags\": [\"x\", null], \"meta\": {\"k\": 1.5}}\n"
                        + "{\"question\": \"q2\", \"about_me\": \"a2\", \"context\": \"c2\", \"response\": \"r2\","
                        + " \"chat_history\": [{\"question\": \"hq\", \"answer\": \"ha\"}]}\r\n");
        QaDataset data = QaDataset.load(path);
        assertThat(data.format()).isEqualTo(QaDataset.Format.JSON_LINES);
        assertThat(data.get(0).extra()).containsOnlyKeys("id", "tags", "meta");
        assertThat(data.get(0).extra().get("id")).isEqualTo(7);
        assertThat(data.get(0).extra().get("meta")).isEqualTo(Map.of("k", new java.math.BigDecimal("1.5")));
        assertThat(data.get(1).chatHistory()).containsExactly(new QaSample.Exchange("hq", "ha"));

        for (String name : List.of("copy.jsonl", "copy.json")) {
            Path copy = dir.resolve(name);
            QaDataset.write(copy, data);
            QaDataset again = QaDataset.load(copy);
            assertThat(again.samples()).isEqualTo(data.samples());
            assertThat(again.format()).isEqualTo(name.endsWith(".json") ? QaDataset.Format.JSON_ARRAY : QaDataset.Format.JSON_LINES);
        }
        assertThat(Files.readString(dir.resolve("copy.jsonl"))).startsWith(
                "{\"about_me\":\"a\",\"context\":\"c\",\"question\":\"q\",\"response\":\"r\",\"id\":7,\"tags\":[\"x\",null],\"meta\":{\"k\":1.5}}\n");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".tmp"));
        }
        // the permissions any new file gets here (umask), not a temporary file's owner-only 0600
        assertThat(Files.getPosixFilePermissions(dir.resolve("copy.jsonl")))
                .isEqualTo(Files.getPosixFilePermissions(Files.createFile(dir.resolve("plain"))));
    }

    @Test
    void inferenceOptionsAllowAMissingResponseButStillCheckOneThatIsThere() throws IOException {
        Path path = write("requests.jsonl", "{\"about_me\": \"a\", \"context\": \"c\", \"question\": \"q\"}\n"
                + "{\"about_me\": \"a\", \"context\": \"c\", \"question\": \"q\", \"response\": 3}\n");
        InvalidDatasetException e = catchThrowableOfType(InvalidDatasetException.class, () -> QaDataset.load(path, QaDataset.Options.INFERENCE));
        assertThat(e.problems()).extracting(Problem::toString).containsExactly(
                "record 2 (line 2): field 'response' is a number (3), expected a string");
        Files.writeString(path, "{\"about_me\": \"a\", \"context\": \"c\", \"question\": \"q\"}\n");
        assertThat(QaDataset.load(path, QaDataset.Options.INFERENCE).get(0).hasResponse()).isFalse();
    }

    @Test
    void invalidUtf8InAnExtraFieldIsNamed() throws IOException {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.write("[{\"about_me\": \"a\", \"context\": \"c\", \"question\": \"q\", \"response\": \"r\", \"note\": [\"".getBytes(StandardCharsets.UTF_8));
        file.write(new byte[] {(byte) 0xFF});
        file.write("\"]}]".getBytes(StandardCharsets.UTF_8));
        Path path = dir.resolve("note.json");
        Files.write(path, file.toByteArray());
        assertThatThrownBy(() -> QaDataset.load(path))
                .hasMessage(path + " record 1 (line 1): field 'note' is not valid UTF-8; save the file as UTF-8 (nothing loaded)");
    }

    @Test
    void manyProblemsAreCountedButTheMessageShowsTheFirstTwoHundred() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 250; i++) sb.append("{\"about_me\": \"a\", \"context\": \"c\", \"question\": \"q\"}\n");
        InvalidDatasetException e = catchThrowableOfType(InvalidDatasetException.class, () -> QaDataset.load(write("many.jsonl", sb.toString())));
        assertThat(e.problems()).hasSize(250);
        assertThat(e.getMessage()).contains("record 200 (line 200)").doesNotContain("record 201 ").endsWith("... and 50 more");
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    private static void line(ByteArrayOutputStream out, String s) throws IOException {
        out.write((s + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static org.assertj.core.groups.Tuple tuple(Object... values) {
        return org.assertj.core.groups.Tuple.tuple(values);
    }
}
