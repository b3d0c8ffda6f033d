package dev.finadvisor.llm.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsShardsTest {
    @TempDir
    Path dir;

    @Test
    void shardsListedInTheIndexReadAsOneCheckpoint() throws IOException {
        new SafetensorsWriter().addFloats("a", new long[] {2}, new float[] {1, 2}).write(dir.resolve("model-00001-of-00002.safetensors"));
        new SafetensorsWriter().addFloats("b", new long[] {1}, new float[] {3}).write(dir.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(dir.resolve(SafetensorsShards.INDEX), """
                {"metadata": {"total_size": 12},
                 "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}""");
        try (SafetensorsShards s = SafetensorsShards.open(dir)) {
            assertThat(s.names()).containsExactly("a", "b");
            assertThat(s.readFloats("a")).containsExactly(1, 2);
            assertThat(s.readFloats("b")).containsExactly(3);
            assertThatThrownBy(() -> s.readFloats("c")).hasMessageContaining("no tensor 'c'");
        }
    }

    @Test
    void aMissingShardIsNamed() throws IOException {
        Files.writeString(dir.resolve(SafetensorsShards.INDEX), "{\"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\"}}");
        assertThatThrownBy(() -> SafetensorsShards.open(dir)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("tensor 'a'").hasMessageContaining("model-00001-of-00002.safetensors").hasMessageContaining("missing");
    }

    @Test
    void anIndexEntryTheShardDoesNotHoldIsAnError() throws IOException {
        new SafetensorsWriter().addFloats("a", new long[] {1}, new float[] {1}).write(dir.resolve("s1.safetensors"));
        Files.writeString(dir.resolve(SafetensorsShards.INDEX), "{\"weight_map\": {\"z\": \"s1.safetensors\"}}");
        assertThatThrownBy(() -> SafetensorsShards.open(dir)).hasMessageContaining("tensor 'z'").hasMessageContaining("does not hold it");
    }

    @Test
    void shardPathsMayNotLeaveTheFolder() throws IOException {
        Files.writeString(dir.resolve(SafetensorsShards.INDEX), "{\"weight_map\": {\"a\": \"../../etc/passwd\"}}");
        assertThatThrownBy(() -> SafetensorsShards.open(dir)).hasMessageContaining("outside the checkpoint folder");
    }

    @Test
    void aFolderWithoutWeightsSaysWhatIsMissing() {
        assertThatThrownBy(() -> SafetensorsShards.open(dir)).hasMessageContaining("no model.safetensors");
    }
}
