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
    private final int intermediate;
    /** Per sequence of the batch. */
    private float[][] x = new float[0][];
    private float[][] attnIn = new float[0][];
    private float[][] mlpIn = new float[0][];
    private float[][] fused = new float[0][];
    private float[][] attnOut = new float[0][];
    private float[][] inner = new float[0][];
    private float[][] mlpOut = new float[0][];

    FalconDecoder(JavaDecode d, ModelConfig c, Norm finalNorm, List<Layer> layers, Projection lmHead) {
        this.d = d;
        this.finalNorm = finalNorm;
        this.layers = layers;
        this.lmHead = lmHead;
        this.eps = c.normEps();
        this.newArchitecture = c.newDecoderArchitecture();
        this.parallel = c.parallelAttention();
        this.intermediate = c.intermediateSize();
    }

    /** Appends {@code tokens[b]} at the next position of {@code caches[b]} and returns the logits after each. */
    @Override
    public synchronized float[][] step(int[] tokens, KvCache[] caches) {
        if (closed) throw new IllegalStateException("the model was closed");
        int n = tokens.length;
        x = JavaDecode.room(x, n, d.hidden);
        attnIn = JavaDecode.room(attnIn, n, d.hidden);
        mlpIn = JavaDecode.room(mlpIn, n, d.hidden);
        fused = JavaDecode.room(fused, n, (d.heads + 2 * d.kvHeads) * d.headDim);
        attnOut = JavaDecode.room(attnOut, n, d.hidden);
        inner = JavaDecode.room(inner, n, intermediate);
        mlpOut = JavaDecode.room(mlpOut, n, d.hidden);
        int[] pos = d.begin(tokens, caches, x);
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            for (int b = 0; b < n; b++) layerNorm(x[b], l.attnNorm, attnIn[b]);
            d.project(attnIn, n, l.qkv, fused);
            for (int b = 0; b < n; b++) split(fused[b], d.q[b], d.k[b], d.v[b]);
            d.attend(i, caches, pos, n);
            d.project(d.attended, n, l.dense, attnOut);
            float[][] in = attnIn;
            if (newArchitecture) {
                for (int b = 0; b < n; b++) layerNorm(x[b], l.mlpNorm, mlpIn[b]);
                in = mlpIn;
            } else if (!parallel) {
                for (int b = 0; b < n; b++) add(x[b], attnOut[b]);
                for (int b = 0; b < n; b++) layerNorm(x[b], l.mlpNorm, mlpIn[b]);
                in = mlpIn;
            }
            d.project(in, n, l.up, inner);
            for (int b = 0; b < n; b++) {
                for (int j = 0; j < intermediate; j++) inner[b][j] = gelu(inner[b][j]);
            }
            d.project(inner, n, l.down, mlpOut);
            for (int b = 0; b < n; b++) {
                if (newArchitecture || parallel) {
                    for (int j = 0; j < d.hidden; j++) x[b][j] += mlpOut[b][j] + attnOut[b][j];
                } else {
                    add(x[b], mlpOut[b]);
                }
            }
        }
        for (KvCache cache : caches) cache.advance(1);
        for (int b = 0; b < n; b++) layerNorm(x[b], finalNorm, attnIn[b]);
        return d.logits(attnIn, n, lmHead);
    }

    private void add(float[] x, float[] delta) {
        for (int j = 0; j < d.hidden; j++) x[j] += delta[j];
    }

    /** The fused projection into query, key and value heads, in FalconModel's layouts. */
    private void split(float[] fused, float[] q, float[] k, float[] v) {
        int hd = d.headDim;
        if (newArchitecture || d.kvHeads == 1) {
            // per kv group: its query heads, then one key head, then one value head
            int perGroup = d.heads / d.kvHeads;
            int stride = perGroup + 2;
            for (int g = 0; g < d.kvHeads; g++) {
                System.arraycopy(fused, g * stride * hd, q, g * perGroup * hd, perGroup * hd);
                System.arraycopy(fused, (g * stride + perGroup) * hd, k, g * hd, hd);
                System.arraycopy(fused, (g * stride + perGroup + 1) * hd, v, g * hd, hd);
            }
        } else {
            // full multi-head: per head (q, k, v)
            for (int h = 0; h < d.heads; h++) {
                System.arraycopy(fused, 3 * h * hd, q, h * hd, hd);
                System.arraycopy(fused, (3 * h + 1) * hd, k, h * hd, hd);
                System.arraycopy(fused, (3 * h + 2) * hd, v, h * hd, hd);
            }
        }
    }

    /** (x - mean) / sqrt(var + eps) * weight + bias, biased variance, as torch's layer_norm. */
    private void layerNorm(float[] in, Norm n, float[] out) {
        int length = d.hidden;
        double sum = 0;
        for (int j = 0; j < length; j++) sum += in[j];
        double mean = sum / length;
        double squares = 0;
        for (int j = 0; j < length; j++) squares += (in[j] - mean) * (in[j] - mean);
        float rstd = (float) (1.0 / Math.sqrt(squares / length + eps));
        float m = (float) mean;
        for (int j = 0; j < length; j++) out[j] = (in[j] - m) * rstd * n.weight[j] + n.bias[j];
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
