package dev.finadvisor.llm.lora;

/**
 * The two LoRA factors of one linear module, row-major fp32: {@code a} is [r, in] and {@code b} is
 * [out, r], so the module's update is {@code scale * B A}, as PEFT stores them.
 */
public record LoraWeights(int r, int in, int out, float[] a, float[] b) {
    public LoraWeights {
        if (a.length != (long) r * in) throw new IllegalArgumentException("lora_A has " + a.length + " values, expected r*in = " + r + "*" + in);
        if (b.length != (long) out * r) throw new IllegalArgumentException("lora_B has " + b.length + " values, expected out*r = " + out + "*" + r);
    }

    /** The dense update {@code scale * B A} as an [out, in] row-major matrix (for merging into a base weight). */
    public float[] delta(double scale) {
        float[] d = new float[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double s = 0;
                for (int k = 0; k < r; k++) s += (double) b[o * r + k] * a[k * in + i];
                d[o * in + i] = (float) (s * scale);
            }
        }
        return d;
    }
}
