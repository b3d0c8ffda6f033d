package dev.finadvisor.llm.train;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The optimizer's per-element loops over fp32 tensors in the engine's memory ({@code EngineMemory}):
 * one pass per parameter instead of about fifteen engine ops, each a call with its own overhead that
 * outweighed the arithmetic on LoRA's small factors. Only loaded when the Vector API module is present.
 */
final class OptimizerKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    /** Squares are summed in fp32 vectors over blocks this long, the block sums in fp64. */
    private static final int BLOCK = 1024;

    private OptimizerKernels() {}

    /**
     * One AdamW update of n elements, in {@code torch.optim.AdamW}'s order of fp32 operations:
     * {@code p *= decay; m = m*beta1 + (1-beta1)*g; v = v*beta2 + (1-beta2)*g*g;
     * p += -step * m / (sqrt(v) / bc2Sqrt + eps)}.
     */
    static void adamw(ByteBuffer p, ByteBuffer g, ByteBuffer m, ByteBuffer v, int n,
                      float decay, float beta1, float oneMinusBeta1, float beta2, float oneMinusBeta2,
                      float bc2Sqrt, float eps, float negStep) {
        int i = 0;
        for (; i + L <= n; i += L) {
            int at = i * 4;
            FloatVector gv = FloatVector.fromByteBuffer(S, g, at, NATIVE);
            FloatVector pv = FloatVector.fromByteBuffer(S, p, at, NATIVE);
            if (decay != 1f) pv = pv.mul(decay);
            FloatVector mv = gv.fma(FloatVector.broadcast(S, oneMinusBeta1), FloatVector.fromByteBuffer(S, m, at, NATIVE).mul(beta1));
            FloatVector vv = FloatVector.fromByteBuffer(S, v, at, NATIVE).mul(beta2).add(gv.mul(oneMinusBeta2).mul(gv));
            FloatVector denom = vv.sqrt().div(bc2Sqrt).add(eps);
            pv = pv.add(mv.mul(negStep).div(denom));
            mv.intoByteBuffer(m, at, NATIVE);
            vv.intoByteBuffer(v, at, NATIVE);
            pv.intoByteBuffer(p, at, NATIVE);
        }
        for (; i < n; i++) {
            int at = i * 4;
            float gi = g.getFloat(at);
            float pi = p.getFloat(at);
            if (decay != 1f) pi *= decay;
            float mi = Math.fma(gi, oneMinusBeta1, m.getFloat(at) * beta1);
            float vi = v.getFloat(at) * beta2 + gi * oneMinusBeta2 * gi;
            float denom = (float) Math.sqrt(vi) / bc2Sqrt + eps;
            m.putFloat(at, mi);
            v.putFloat(at, vi);
            p.putFloat(at, pi + mi * negStep / denom);
        }
    }

    /** Sum of squares of n fp32 elements (NaN or infinite if any element is). */
    static double sumOfSquares(ByteBuffer g, int n) {
        double total = 0;
        for (int start = 0; start < n; start += BLOCK) {
            int end = Math.min(n, start + BLOCK);
            FloatVector acc = FloatVector.zero(S);
            int i = start;
            for (; i + L <= end; i += L) {
                FloatVector x = FloatVector.fromByteBuffer(S, g, i * 4, NATIVE);
                acc = x.fma(x, acc);
            }
            double block = acc.reduceLanes(VectorOperators.ADD);
            for (; i < end; i++) {
                float x = g.getFloat(i * 4);
                block += (double) x * x;
            }
            total += block;
        }
        return total;
    }
}
