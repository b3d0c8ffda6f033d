package dev.finadvisor.domain.qa;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finadvisor.domain.UserError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mangled files: loading either succeeds or fails with a clear user error, never with anything else. */
class QaDatasetFuzzTest {
    @TempDir
    Path dir;

    @Test
    void mangledFilesFailOnlyWithUserErrors() throws IOException {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        byte[] jsonl = ("{\"about_me\": \"I'm 30.\\nI save.\", \"context\": \"Rates rise.\", \"question\": \"Bonds?\", \"response\": \"Yes.\", \"id\": [1, {\"k\": null}]}\n"
                + "{\"about_me\": \"Ünïcode ✓\", \"context\": \"c\", \"question\": \"q\", \"response\": \"r\", \"chat_history\": [{\"question\": \"a\", \"answer\": \"b\"}]}\n")
                .getBytes(StandardCharsets.UTF_8);
        byte[] array = Files.readAllBytes(QaDatasetTest.courseTrainingData());
        byte[] head = java.util.Arrays.copyOf(array, 3000);
        Path file = dir.resolve("fuzz.json");
        int loaded = 0;
        int rejected = 0;
        for (int round = 0; round < 400; round++) {
            byte[] base = round % 2 == 0 ? jsonl : head;
            byte[] bytes = mangle(base, random);
            Files.write(file, bytes);
            try {
                List<QaSample> samples = QaDataset.load(file, QaDataset.Options.INFERENCE);
                assertThat(samples).isNotEmpty();
                loaded++;
            } catch (UserError e) {
                assertThat(e.getMessage()).as("seed " + seed).contains(file.toString());
                rejected++;
            } catch (RuntimeException e) {
                throw new AssertionError("seed " + seed + ", round " + round + ": " + e, e);
            }
        }
        assertThat(rejected).as("seed " + seed).isGreaterThan(0);
        assertThat(loaded + rejected).isEqualTo(400);
    }

    private static final String STRUCTURE = "{}[]\",:\n\\ ";

    private static byte[] mangle(byte[] base, Random random) {
        byte[] b = base.clone();
        int edits = 1 + random.nextInt(4);
        for (int i = 0; i < edits; i++) {
            int at = random.nextInt(b.length);
            switch (random.nextInt(4)) {
                case 0 -> b[at] = (byte) random.nextInt(256);
                case 1 -> b[at] = (byte) STRUCTURE.charAt(random.nextInt(STRUCTURE.length()));
                case 2 -> b = java.util.Arrays.copyOf(b, Math.max(1, at));
                default -> b[at] = (byte) (0x80 + random.nextInt(64));
            }
        }
        return b;
    }
}
