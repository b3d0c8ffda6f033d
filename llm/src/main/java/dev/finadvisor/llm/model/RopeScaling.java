package dev.finadvisor.llm.model;

/**
 * config.json's {@code rope_scaling}: "linear" divides every frequency by {@code factor}; "llama3"
 * divides only the low frequencies and blends the middle band (Llama 3.1's long-context recipe).
 */
public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
    /** The inverse frequencies of rotary embedding for {@code headDim} and base {@code theta}, scaled. */
    static double[] inverseFrequencies(int rotaryDim, double theta, RopeScaling scaling) {
        double[] inv = new double[rotaryDim / 2];
        for (int i = 0; i < inv.length; i++) {
            // HF computes theta^(arange(0, d, 2)/d) in fp32; the same formula in double differs by < 1e-7 relative
            inv[i] = 1.0 / Math.pow(theta, (2.0 * i) / rotaryDim);
        }
        if (scaling == null) return inv;
        switch (scaling.type()) {
            case "linear" -> {
                for (int i = 0; i < inv.length; i++) inv[i] /= scaling.factor();
            }
            case "llama3" -> {
                double lowWavelen = scaling.originalMaxPositions() / scaling.lowFreqFactor();
                double highWavelen = scaling.originalMaxPositions() / scaling.highFreqFactor();
                for (int i = 0; i < inv.length; i++) {
                    double wavelen = 2 * Math.PI / inv[i];
                    if (wavelen < highWavelen) continue;
                    if (wavelen > lowWavelen) {
                        inv[i] /= scaling.factor();
                    } else {
                        double smooth = (scaling.originalMaxPositions() / wavelen - scaling.lowFreqFactor())
                                / (scaling.highFreqFactor() - scaling.lowFreqFactor());
                        inv[i] = (1 - smooth) * inv[i] / scaling.factor() + smooth * inv[i];
                    }
                }
            }
            default -> throw new AssertionError(scaling.type());
        }
        return inv;
    }
}
