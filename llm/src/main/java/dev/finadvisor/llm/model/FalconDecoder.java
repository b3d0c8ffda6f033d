package dev.finadvisor.llm.model;

import dev.finadvisor.llm.model.JavaDecode.Projection;
import java.util.List;

/**
 * One decode step of a Falcon model in Java loops ({@link JavaDecode}): LayerNorm, the fused
 * query_key_value projection split as {@link FalconModel} splits it, rotary multi-query or grouped
 * attention, an exact (erf) GELU MLP, parallel or sequential residuals.
 */
final class FalconDecoder implements DecoderSlot.StepDecoder {
    record Norm(float[] weight, float[] bias) {}

    /** mlpNorm is null when the old parallel layout feeds the MLP from the attention's LayerNorm. */
    record Layer(Norm attnNorm, Norm mlpNorm, Projection qkv, Projection dense, Projection up, Projection down) {}

    private final JavaDecode d;
    private boolean closed;
    private final Norm finalNorm;
    private final List<Layer> layers;
    private final Projection lmHead;
    private final double eps;
    private final boolean newArchitecture;
    private final boolean parallel;
    private final float[] x;
    private final float[] attnIn;
    private final float[] mlpIn;
    private final float[] fused;
    private final float[] attnOut;
    private final float[] inner;
    private final float[] mlpOut;

    FalconDecoder(JavaDecode d, ModelConfig c, Norm finalNorm, List<Layer> layers, Projection lmHead) {
        this.d = d;
        this.finalNorm = finalNorm;
        this.layers = layers;
        this.lmHead = lmHead;
        this.eps = c.normEps();
        this.newArchitecture = c.newDecoderArchitecture();
        this.parallel = c.parallelAttention();
        x = new float[d.hidden];
        attnIn = new float[d.hidden];
        mlpIn = new float[d.hidden];
        fused = new float[(d.heads + 2 * d.kvHeads) * d.headDim];
        attnOut = new float[d.hidden];
        inner = new float[c.intermediateSize()];
        mlpOut = new float[d.hidden];
    }

    /** Appends {@code token} at the cache's next position and returns the logits after it. */
    @Override
    public synchronized float[] step(int token, KvCache cache) {
        if (closed) throw new IllegalStateException("the model was closed");
        int pos = d.begin(token, cache, x);
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            layerNorm(x, l.attnNorm, attnIn);
            d.project(attnIn, l.qkv, fused);
            split();
            d.attend(i, cache, pos);
            d.project(d.attended, l.dense, attnOut);
            float[] in = attnIn;
            if (newArchitecture) {
                layerNorm(x, l.mlpNorm, mlpIn);
                in = mlpIn;
            } else if (!parallel) {
                for (int j = 0; j < x.length; j++) x[j] += attnOut[j];
                layerNorm(x, l.mlpNorm, mlpIn);
                in = mlpIn;
            }
            d.project(in, l.up, inner);
            for (int j = 0; j < inner.length; j++) inner[j] = gelu(inner[j]);
            d.project(inner, l.down, mlpOut);
            if (newArchitecture || parallel) {
                for (int j = 0; j < x.length; j++) x[j] += mlpOut[j] + attnOut[j];
            } else {
                for (int j = 0; j < x.length; j++) x[j] += mlpOut[j];
            }
        }
        cache.advance(1);
        layerNorm(x, finalNorm, attnIn);
        return d.logits(attnIn, lmHead);
    }

    /** The fused projection into query, key and value heads, in FalconModel's layouts. */
    private void split() {
        int hd = d.headDim;
        if (newArchitecture || d.kvHeads == 1) {
            // per kv group: its query heads, then one key head, then one value head
            int perGroup = d.heads / d.kvHeads;
            int stride = perGroup + 2;
            for (int g = 0; g < d.kvHeads; g++) {
                System.arraycopy(fused, g * stride * hd, d.q, g * perGroup * hd, perGroup * hd);
                System.arraycopy(fused, (g * stride + perGroup) * hd, d.k, g * hd, hd);
                System.arraycopy(fused, (g * stride + perGroup + 1) * hd, d.v, g * hd, hd);
            }
        } else {
            // full multi-head: per head (q, k, v)
            for (int h = 0; h < d.heads; h++) {
                System.arraycopy(fused, 3 * h * hd, d.q, h * hd, hd);
                System.arraycopy(fused, (3 * h + 1) * hd, d.k, h * hd, hd);
                System.arraycopy(fused, (3 * h + 2) * hd, d.v, h * hd, hd);
            }
        }
    }

    /** (x - mean) / sqrt(var + eps) * weight + bias, biased variance, as torch's layer_norm. */
    private void layerNorm(float[] in, Norm n, float[] out) {
        double sum = 0;
        for (float f : in) sum += f;
        double mean = sum / in.length;
        double squares = 0;
        for (float f : in) squares += (f - mean) * (f - mean);
        float rstd = (float) (1.0 / Math.sqrt(squares / in.length + eps));
        float m = (float) mean;
        for (int j = 0; j < in.length; j++) out[j] = (in[j] - m) * rstd * n.weight[j] + n.bias[j];
    }

    /** Exact GELU, x * Phi(x), as torch's gelu without approximation. */
    static float gelu(float x) {
        return (float) (0.5 * x * (1 + erf(x / Math.sqrt(2))));
    }

    /** erf to about 1e-7 absolute (Abramowitz and Stegun 7.1.26): below fp32 resolution for GELU. */
    static double erf(double z) {
        double t = 1 / (1 + 0.3275911 * Math.abs(z));
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        double y = 1 - poly * Math.exp(-z * z);
        return z >= 0 ? y : -y;
    }

    /** Waits for a step in progress: the weights it reads are freed right after. */
    @Override
    public synchronized void close() {
        closed = true;
        d.close();
    }
}
