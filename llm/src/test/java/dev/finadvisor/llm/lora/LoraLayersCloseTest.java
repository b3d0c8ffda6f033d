package dev.finadvisor.llm.lora;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.model.CausalLM;
import dev.finadvisor.llm.model.KvCache;
import dev.finadvisor.llm.model.Linear;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Closing the LoRA layers of a model in use takes them out first: the model decodes as its base, never over freed factors. */
class LoraLayersCloseTest {
    @TempDir Path dir;

    private static float[] decode(CausalLM model) {
        try (KvCache cache = model.newCache(1, 8)) {
            model.decode(1, cache);
            return model.decode(17, cache);
        }
    }

    @Test
    void closingInstalledLayersPutsTheBaseBackBeforeFreeingTheFactors() throws Exception {
        Path ckpt = RandomCheckpoint.tiny("llama").write(dir.resolve("llama"));
        try (NDManager root = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, root)) {
            float[] base = decode(model);
            Random r = new Random(4);
            Map<String, LoraWeights> modules = new LinkedHashMap<>();
            for (int layer = 0; layer < 2; layer++) {
                float[] a = new float[2 * 64];
                float[] b = new float[64 * 2];
                for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
                for (int i = 0; i < b.length; i++) b[i] = (float) r.nextGaussian();
                modules.put("model.layers." + layer + ".self_attn.q_proj", new LoraWeights(2, 64, 64, a, b));
            }
            LoraLayers lora = LoraLayers.apply(new PeftAdapter(new LoraConfig(2, 4, 0, List.of("q_proj"), "x", "falcon"), modules), model);
            float[] adapted = decode(model); // the Java decoder now reads the factors in place
            assertThat(adapted).isNotEqualTo(base);
            lora.close();
            for (Linear l : model.linears().values()) assertThat(l).isNotInstanceOf(LoraLinear.class);
            assertThat(decode(model)).isEqualTo(base);
        }
    }
}
