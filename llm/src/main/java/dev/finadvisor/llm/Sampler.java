package dev.finadvisor.llm;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Picks the next token from logits as {@link GenerationConfig} says, in Hugging Face's order: penalty, temperature, top-k, top-p. */
final class Sampler {
    private final GenerationConfig config;
    private final SplittableRandom random;

    Sampler(GenerationConfig config) {
        this.config = config;
        this.random = new SplittableRandom(config.seed());
    }

    /** {@code logits} is modified in place; {@code seen[id]} marks tokens in the prompt or output so far. */
    int next(float[] logits, boolean[] seen) {
        if (config.repetitionPenalty() != 1) {
            float p = (float) config.repetitionPenalty();
            for (int i = 0; i < logits.length; i++) {
                if (seen[i]) logits[i] = logits[i] < 0 ? logits[i] * p : logits[i] / p;
            }
        }
        if (config.temperature() == 0) return argMax(logits);
        double[] scaled = new double[logits.length];
        for (int i = 0; i < logits.length; i++) scaled[i] = logits[i] / config.temperature();
        if (config.topK() > 0 && config.topK() < scaled.length) {
            double[] sorted = scaled.clone();
            Arrays.sort(sorted);
            double kth = sorted[sorted.length - config.topK()];
            for (int i = 0; i < scaled.length; i++) if (scaled[i] < kth) scaled[i] = Double.NEGATIVE_INFINITY;
        }
        double[] probs = softmax(scaled);
        if (config.topP() < 1) {
            // keep the most probable tokens until their mass reaches top_p (at least one)
            Integer[] order = new Integer[probs.length];
            for (int i = 0; i < order.length; i++) order[i] = i;
            Arrays.sort(order, (a, b) -> Double.compare(probs[b], probs[a]));
            double mass = 0;
            int keep = 0;
            while (keep < order.length && (keep == 0 || mass < config.topP())) mass += probs[order[keep++]];
            for (int i = keep; i < order.length; i++) probs[order[i]] = 0;
            double total = 0;
            for (double p : probs) total += p;
            for (int i = 0; i < probs.length; i++) probs[i] /= total;
        }
        double u = random.nextDouble();
        double cumulative = 0;
        int last = -1;
        for (int i = 0; i < probs.length; i++) {
            if (probs[i] == 0) continue;
            cumulative += probs[i];
            last = i;
            if (u < cumulative) return i;
        }
        return last; // rounding left u just above the total
    }

    static int argMax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    private static double[] softmax(double[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) max = Math.max(max, v);
        double[] out = new double[x.length];
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            out[i] = Math.exp(x[i] - max);
            sum += out[i];
        }
        for (int i = 0; i < x.length; i++) out[i] /= sum;
        return out;
    }
}
