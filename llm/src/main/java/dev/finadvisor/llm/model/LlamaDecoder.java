package dev.finadvisor.llm.model;

import dev.finadvisor.llm.model.JavaDecode.Projection;
import java.util.List;

/** One decode step of a Llama-family model in Java loops ({@link JavaDecode}): RMSNorm, rotary GQA, SiLU-gated MLP. */
final class LlamaDecoder implements DecoderSlot.StepDecoder {
    record Layer(float[] inputNorm, float[] postNorm, Projection q, Projection k, Projection v, Projection o,
                 Projection gate, Projection up, Projection down) {}

    private final JavaDecode d;
    private boolean closed;
    private final float[] finalNorm;
    private final List<Layer> layers;
    private final Projection lmHead;
    private final float eps;
    private final int intermediate;
    /** Per sequence of the batch. */
    private float[][] x = new float[0][];
    private float[][] normed = new float[0][];
    private float[][] projected = new float[0][];
    private float[][] gate = new float[0][];
    private float[][] up = new float[0][];

    LlamaDecoder(JavaDecode d, ModelConfig c, float[] finalNorm, List<Layer> layers, Projection lmHead) {
        this.d = d;
        this.finalNorm = finalNorm;
        this.layers = layers;
        this.lmHead = lmHead;
        this.eps = (float) c.normEps();
        this.intermediate = c.intermediateSize();
    }

    /** Appends {@code tokens[b]} at the next position of {@code caches[b]} and returns the logits after each. */
    @Override
    public synchronized float[][] step(int[] tokens, KvCache[] caches) {
        if (closed) throw new IllegalStateException("the model was closed");
        int n = tokens.length;
        x = JavaDecode.room(x, n, d.hidden);
        normed = JavaDecode.room(normed, n, d.hidden);
        projected = JavaDecode.room(projected, n, d.hidden);
        gate = JavaDecode.room(gate, n, intermediate);
        up = JavaDecode.room(up, n, intermediate);
        int[] pos = d.begin(tokens, caches, x);
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            for (int b = 0; b < n; b++) rmsNorm(x[b], l.inputNorm, normed[b]);
            d.project(normed, n, l.q, d.q, l.k, d.k, l.v, d.v);
            d.attend(i, caches, pos, n);
            d.project(d.attended, n, l.o, projected);
            for (int b = 0; b < n; b++) add(x[b], projected[b]);
            for (int b = 0; b < n; b++) rmsNorm(x[b], l.postNorm, normed[b]);
            d.project(normed, n, l.gate, gate, l.up, up, null, null);
            for (int b = 0; b < n; b++) {
                float[] g = gate[b];
                for (int j = 0; j < intermediate; j++) g[j] = g[j] * (float) (1.0 / (1.0 + Math.exp(-g[j]))) * up[b][j]; // silu(gate) * up
            }
            d.project(gate, n, l.down, projected);
            for (int b = 0; b < n; b++) add(x[b], projected[b]);
        }
        for (KvCache cache : caches) cache.advance(1);
        for (int b = 0; b < n; b++) rmsNorm(x[b], finalNorm, normed[b]);
        return d.logits(normed, n, lmHead);
    }

    private void add(float[] x, float[] delta) {
        for (int j = 0; j < d.hidden; j++) x[j] += delta[j];
    }

    /** x * (mean(x^2) + eps)^-1/2 * weight, as {@link LlamaModel}'s rmsNorm computes it. */
    private void rmsNorm(float[] in, float[] weight, float[] out) {
        int n = d.hidden;
        float inverseRms = (float) (1.0 / Math.sqrt(VectorKernels.sumOfSquares(in, n) / n + eps));
        for (int j = 0; j < n; j++) out[j] = in[j] * inverseRms * weight[j];
    }

    /** Waits for a step in progress: the weights it reads are freed right after. */
    @Override
    public synchronized void close() {
        closed = true;
        d.close();
    }
}
