package dev.finadvisor.inference;

import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.safetensors.Dtype;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** llm's tiny random Llama, with room for a RAG prompt (2048 positions instead of 256). */
public final class TinyModel {
    private TinyModel() {}

    public static Path write(Path dir) throws IOException {
        return new RandomCheckpoint("LlamaForCausalLM", 64, 96, 2, 4, 2, 384, 2048, false, Map.of(), Dtype.F32, 0.08, 11).write(dir);
    }
}
