package dev.finadvisor.llm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.finadvisor.llm.lora.LoraLayers;
import dev.finadvisor.llm.lora.LoraLinear;
import dev.finadvisor.llm.model.TrainingPass;
import dev.finadvisor.llm.train.GradientClipping;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** What the tests comparing two ways of computing LoRA gradients share. */
public final class LoraGradients {
    private LoraGradients() {}

    /** Every linear of a decoder layer of {@code family}'s tiny model ({@link RandomCheckpoint#tiny}), as LoRA targets. */
    public static List<String> allLinears(String family) {
        return family.startsWith("llama")
                ? List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
                : List.of("query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h");
    }

    /** Two sequences of nine token ids of the tiny models' 384-token vocabulary, and a weight per logit. */
    public record Batch(long[] ids, float[] lossWeights) {
        public static Batch random(Random random) {
            long[] ids = new long[2 * 9];
            for (int i = 0; i < ids.length; i++) ids[i] = 3 + random.nextInt(380);
            float[] lossWeights = new float[2 * 9 * 384];
            for (int i = 0; i < lossWeights.length; i++) lossWeights[i] = (float) random.nextGaussian();
            return new Batch(ids, lossWeights);
        }
    }

    /**
     * The LoRA gradients of {@code sum(logits * lossWeights)} through {@code pass} (dropout masks seeded alike each
     * time), zeroed after; the logits into {@code logitsOut[0]} if it is not null.
     */
    public static Map<String, float[]> gradients(TrainingPass pass, LoraLayers lora, Batch batch, NDManager manager, float[][] logitsOut) {
        lora.seedDropout(99);
        Map<String, float[]> grads = new LinkedHashMap<>();
        try (NDManager step = manager.newSubManager()) {
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray logits = pass.forward(step.create(batch.ids(), new Shape(2, 9)));
                if (logitsOut != null) logitsOut[0] = logits.toFloatArray();
                pass.backward(logits, step.create(batch.lossWeights(), logits.getShape())); // d loss / d logits
            }
            for (Map.Entry<String, NDArray> p : lora.parameters().entrySet()) {
                grads.put(p.getKey(), p.getValue().getGradient().toType(DataType.FLOAT32, false).toFloatArray());
            }
            GradientClipping.zeroGradients(lora.parameters().values());
        }
        return grads;
    }

    /** Gives every B a random value: with B = 0 (its initial value) A would get no gradient to compare. */
    public static void randomiseB(LoraLayers lora, Random random) {
        for (LoraLinear l : lora.layers().values()) {
            float[] b = new float[(int) l.b().size()];
            for (int i = 0; i < b.length; i++) b[i] = (float) (random.nextGaussian() * 0.1);
            l.b().set(b);
        }
    }

    /** Same factors, each non-zero, every element within {@code tolerance} x the factor's largest expected magnitude. */
    public static void assertClose(Map<String, float[]> expected, Map<String, float[]> actual, String what, float tolerance) {
        assertThat(actual.keySet()).isEqualTo(expected.keySet());
        for (String name : expected.keySet()) {
            float[] a = expected.get(name);
            float[] b = actual.get(name);
            float scale = 0;
            for (float v : a) scale = Math.max(scale, Math.abs(v));
            assertThat(scale).as("%s has a gradient", name).isGreaterThan(0f);
            for (int i = 0; i < a.length; i++) {
                assertThat(Math.abs(a[i] - b[i])).as("%s[%d] of %s", name, i, what).isLessThanOrEqualTo(tolerance * scale);
            }
        }
    }
}
