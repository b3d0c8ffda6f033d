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
    private final float[] x;
    private final float[] normed;
    private final float[] projected;
    private final float[] gate;
    private final float[] up;

    LlamaDecoder(JavaDecode d, ModelConfig c, float[] finalNorm, List<Layer> layers, Projection lmHead) {
        this.d = d;
        this.finalNorm = finalNorm;
        this.layers = layers;
        this.lmHead = lmHead;
        this.eps = (float) c.normEps();
        x = new float[d.hidden];
        normed = new float[d.hidden];
        projected = new float[d.hidden];
        gate = new float[c.intermediateSize()];
        up = new float[c.intermediateSize()];
    }

    /** Appends {@code token} at the cache's next position and returns the logits after it. */
    @Override
    public synchronized float[] step(int token, KvCache cache) {
        if (closed) throw new IllegalStateException("the model was closed");
        int pos = d.begin(token, cache, x);
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            rmsNorm(x, l.inputNorm, normed);
            d.project(normed, l.q, d.q, l.k, d.k, l.v, d.v);
            d.attend(i, cache, pos);
            d.project(d.attended, l.o, projected);
            for (int j = 0; j < x.length; j++) x[j] += projected[j];
            rmsNorm(x, l.postNorm, normed);
            d.project(normed, l.gate, gate, l.up, up, null, null);
            for (int j = 0; j < gate.length; j++) {
                float g = gate[j];
                gate[j] = g * (float) (1.0 / (1.0 + Math.exp(-g))) * up[j]; // silu(gate) * up
            }
            d.project(gate, l.down, projected);
            for (int j = 0; j < x.length; j++) x[j] += projected[j];
        }
        cache.advance(1);
        rmsNorm(x, finalNorm, normed);
        return d.logits(normed, lmHead);
    }

    /** x * (mean(x^2) + eps)^-1/2 * weight, as {@link LlamaModel}'s rmsNorm computes it. */
    private void rmsNorm(float[] in, float[] weight, float[] out) {
        float inverseRms = (float) (1.0 / Math.sqrt(VectorKernels.sumOfSquares(in, in.length) / in.length + eps));
        for (int j = 0; j < in.length; j++) out[j] = in[j] * inverseRms * weight[j];
    }

    /** Waits for a step in progress: the weights it reads are freed right after. */
    @Override
    public synchronized void close() {
        closed = true;
        d.close();
    }
}
