package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finadvisor.llm.RandomCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Running out of memory ends a command with one line naming the limit and how to raise it, never a stack trace. */
class OutOfMemoryTest {
    @TempDir Path dir;

    @Test
    void aHeapTooSmallForTheWeightsEndsWithOneLineSayingHowToRaiseIt() throws Exception {
        Path model = RandomCheckpoint.tiny("llama").write(dir.resolve("llama"));
        // packed weights live in 128 MiB heap arrays: a 64 MiB heap cannot hold the first
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "generate", "--model", model.toString(), "--weights", "int8", "--prompt", "The market", "--max-new-tokens", "2")
                .redirectOutput(dir.resolve("out").toFile()).redirectError(dir.resolve("err").toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String err = Files.readString(dir.resolve("err"));
        List<String> lines = err.lines().filter(l -> !l.matches("\\d\\d:\\d\\d:\\d\\d INFO .*")).toList();
        assertThat(p.exitValue()).as(err).isEqualTo(Main.FAILURE);
        assertThat(lines).as(err).hasSize(1);
        assertThat(lines.get(0)).startsWith("error: out of memory: the Java heap's limit")
                .contains("FINADVISOR_JAVA_OPTS=\"-Xmx").doesNotContain("Exception");
    }
}
