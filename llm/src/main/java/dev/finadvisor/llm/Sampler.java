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
            double kth = kthLargest(scaled.clone(), config.topK());
            for (int i = 0; i < scaled.length; i++) if (scaled[i] < kth) scaled[i] = Double.NEGATIVE_INFINITY;
        }
        double[] probs = softmax(scaled);
        if (config.topP() < 1) {
            // keep the most probable tokens until their mass reaches top_p (at least one); only tokens with mass can be
            // kept, so only they are sorted (a vocabulary's worth of boxed indexes per token was most of a decode step)
            int candidates = 0;
            for (double p : probs) if (p > 0) candidates++;
            Integer[] order = new Integer[candidates];
            for (int i = 0, c = 0; i < probs.length; i++) if (probs[i] > 0) order[c++] = i;
            Arrays.sort(order, (a, b) -> Double.compare(probs[b], probs[a])); // stable: ties stay in index order
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

    /** The k-th largest value of {@code x} (reordered in place): quickselect, linear on average. */
    static double kthLargest(double[] x, int k) {
        int target = x.length - k; // its index in ascending order
        int lo = 0;
        int hi = x.length - 1;
        while (lo < hi) {
            double pivot = x[(lo + hi) >>> 1];
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (x[i] < pivot) i++;
                while (x[j] > pivot) j--;
                if (i <= j) {
                    double t = x[i];
                    x[i++] = x[j];
                    x[j--] = t;
                }
            }
            if (target <= j) hi = j;
            else if (target >= i) lo = i;
            else return x[target];
        }
        return x[target];
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
