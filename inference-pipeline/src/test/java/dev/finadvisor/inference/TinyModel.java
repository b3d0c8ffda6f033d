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

    /** A random adapter on q_proj and v_proj of the model's linears (B non-zero, so it changes the output). */
    public static dev.finadvisor.llm.lora.PeftAdapter randomAdapter(dev.finadvisor.llm.LanguageModel model, long seed) {
        return randomAdapter(model, seed, 4);
    }

    /** The same with rank {@code r}. */
    public static dev.finadvisor.llm.lora.PeftAdapter randomAdapter(dev.finadvisor.llm.LanguageModel model, long seed, int r) {
        var config = new dev.finadvisor.llm.lora.LoraConfig(r, 2 * r, 0, java.util.List.of("q_proj", "v_proj"), "tiny-llama", "falcon");
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        java.util.Map<String, dev.finadvisor.llm.lora.LoraWeights> modules = new java.util.LinkedHashMap<>();
        model.model().linears().forEach((path, linear) -> {
            if (!config.targets(path)) return;
            float[] a = new float[r * linear.inFeatures()];
            float[] b = new float[linear.outFeatures() * r];
            for (int i = 0; i < a.length; i++) a[i] = (float) random.nextGaussian() * 0.1f;
            for (int i = 0; i < b.length; i++) b[i] = (float) random.nextGaussian() * 0.1f;
            modules.put(path, new dev.finadvisor.llm.lora.LoraWeights(r, linear.inFeatures(), linear.outFeatures(), a, b));
        });
        return new dev.finadvisor.llm.lora.PeftAdapter(config, modules);
    }
}
