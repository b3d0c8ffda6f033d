package dev.finadvisor.llm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.llm.safetensors.SafetensorsShards;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RandomCheckpointShardsTest {
    @TempDir Path dir;

    @Test
    void falcon7bHasTheHubsConfigAndSizes() {
        RandomCheckpoint f = RandomCheckpoint.falcon7b();
        assertThat(f.hiddenSize()).isEqualTo(4544);
        assertThat(f.heads()).isEqualTo(71);
        assertThat(f.kvHeads()).isEqualTo(1);
        assertThat(f.layers()).isEqualTo(32);
        assertThat(f.vocabSize()).isEqualTo(65024);
        assertThat(f.intermediateSize()).isEqualTo(18176);
    }

    /** Shards split where the writer crosses the shard size, with an index naming each tensor's file; values as a single file has them. */
    @Test
    void aCheckpointAboveTheShardSizeIsWrittenInShardsWithAnIndex() throws Exception {
        RandomCheckpoint tiny = RandomCheckpoint.tiny("llama");
        Path single = tiny.write(dir.resolve("single"));
        long total = Files.size(single.resolve("model.safetensors"));
        Path sharded = tiny.write(dir.resolve("sharded"), total / 3);
        assertThat(sharded.resolve("model.safetensors")).doesNotExist();
        JsonNode index = new ObjectMapper().readTree(sharded.resolve(SafetensorsShards.INDEX).toFile());
        assertThat(index.get("metadata").get("total_size").asLong()).isPositive();
        try (SafetensorsShards a = SafetensorsShards.open(single); SafetensorsShards b = SafetensorsShards.open(sharded)) {
            assertThat(b.names()).containsExactlyElementsOf(a.names());
            for (String name : a.names()) assertThat(b.readFloats(name)).as(name).containsExactly(a.readFloats(name));
            Map<String, JsonNode> files = new java.util.HashMap<>();
            index.get("weight_map").fields().forEachRemaining(e -> files.put(e.getValue().asText(), e.getValue()));
            assertThat(files.keySet()).hasSizeGreaterThanOrEqualTo(3).allMatch(f -> f.matches("model-0000\\d-of-0000\\d\\.safetensors"));
        }
    }
}
