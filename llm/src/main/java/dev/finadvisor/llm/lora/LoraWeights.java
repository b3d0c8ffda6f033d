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
        float[] row = new float[in];
        for (int o = 0; o < out; o++) {
            java.util.Arrays.fill(row, 0f);
            addDeltaRow(o, scale, row);
            System.arraycopy(row, 0, d, o * in, in);
        }
        return d;
    }

    /** Adds row {@code o} of {@code scale * B A} to {@code row} ({@code in} values), summed in double over the rank. */
    public void addDeltaRow(int o, double scale, float[] row) {
        double[] sum = new double[in];
        for (int k = 0; k < r; k++) {
            double bk = b[o * r + k];
            int from = k * in;
            for (int i = 0; i < in; i++) sum[i] += bk * a[from + i];
        }
        for (int i = 0; i < in; i++) row[i] += (float) (sum[i] * scale);
    }
}
