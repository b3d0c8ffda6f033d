package dev.finadvisor.llm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finadvisor.llm.lora.LoraLayers;
import dev.finadvisor.llm.lora.LoraLinear;
import java.util.Map;
import java.util.Random;

/** What the tests comparing two ways of computing LoRA gradients share. */
public final class LoraGradients {
    private LoraGradients() {}

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
