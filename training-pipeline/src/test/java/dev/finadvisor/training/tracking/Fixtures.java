package dev.finadvisor.training.tracking;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Tiny base checkpoints, datasets and PEFT adapter folders for the tracking tests. */
final class Fixtures {
    private Fixtures() {}

    static Path baseModel(Path dir) throws IOException {
        Path m = Files.createDirectories(dir.resolve("tiny-llama"));
        Files.writeString(m.resolve("config.json"), "{\"model_type\": \"llama\", \"hidden_size\": 16}");
        Files.write(m.resolve("model.safetensors"), bytes(4096, 1));
        return m;
    }

    static Path dataset(Path dir) throws IOException {
        Path d = dir.resolve("training_data.json");
        Files.writeString(d, "[{\"about_me\": \"a\", \"context\": \"c\", \"question\": \"q\", \"response\": \"r\"}]");
        return d;
    }

    static void adapter(Path dir, long seed) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 8}");
        Files.write(dir.resolve("adapter_model.safetensors"), bytes(2048, seed));
    }

    static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
