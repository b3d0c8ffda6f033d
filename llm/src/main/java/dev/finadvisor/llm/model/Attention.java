package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** Scaled dot-product attention composed of engine ops (DJL has no fused kernel). */
final class Attention {
    private Attention() {}

    /**
     * q {@code [b, heads, s, d]}, k and v {@code [b, kvHeads, T, d]} (T = past + s); kv heads serve
     * {@code heads / kvHeads} consecutive query heads; q already scaled by 1/sqrt(d) ({@link Rotary.Tables#scaled}).
     * Returns {@code [b, s, heads * d]}.
     */
    static NDArray attend(NDArray q, NDArray k, NDArray v, NDArray mask) {
        long b = q.getShape().get(0);
        long heads = q.getShape().get(1);
        long s = q.getShape().get(2);
        long d = q.getShape().get(3);
        long kvHeads = k.getShape().get(1);
        if (kvHeads != heads) {
            long rep = heads / kvHeads;
            k = k.repeat(1, rep); // repeat_interleave: kv head j serves query heads j*rep .. j*rep+rep-1
            v = v.repeat(1, rep);
        }
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2));
        if (mask != null) scores = scores.add(mask);
        NDArray out = scores.softmax(-1).matMul(v);
        return out.transpose(0, 2, 1, 3).reshape(b, s, heads * d);
    }

    /** Additive causal mask {@code [s, past + s]}: -inf where a query would see a later position. */
    static NDArray causalMask(NDManager manager, int s, int past) {
        int total = past + s;
        float[] m = new float[s * total];
        for (int i = 0; i < s; i++) {
            for (int j = past + i + 1; j < total; j++) m[i * total + j] = Float.NEGATIVE_INFINITY;
        }
        return manager.create(m, new Shape(s, total));
    }
}
