package dev.finadvisor.llm.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD loops of {@link JavaDecode}, over fp32 rows held in the engine's own memory (direct
 * buffers of the weight tensors): batch-1 decoding reads every weight once per token, so these loops
 * must stream memory at the machine's bandwidth, which libtorch's GEMV does not reach on this CPU.
 * Only loaded when the {@code jdk.incubator.vector} module is present ({@link dev.finadvisor.llm.EngineMemory#VECTOR_API}).
 */
final class VectorKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder LE = ByteOrder.nativeOrder(); // the engine writes tensors in native order

    private VectorKernels() {}

    /** Sum over i of w[base + i] * x[i], i < n; {@code base} in floats. */
    static float dot(ByteBuffer w, long base, float[] x, int n) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        int byteBase = (int) (base * 4);
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            a0 = FloatVector.fromByteBuffer(S, w, byteBase + i * 4, LE).fma(FloatVector.fromArray(S, x, i), a0);
            a1 = FloatVector.fromByteBuffer(S, w, byteBase + (i + L) * 4, LE).fma(FloatVector.fromArray(S, x, i + L), a1);
        }
        for (; i + L <= n; i += L) {
            a0 = FloatVector.fromByteBuffer(S, w, byteBase + i * 4, LE).fma(FloatVector.fromArray(S, x, i), a0);
        }
        float sum = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += w.getFloat(byteBase + i * 4) * x[i];
        return sum;
    }

    /** Same as {@link #dot(ByteBuffer, long, float[], int)} with x read from {@code x[xOffset..]}. */
    static float dot(ByteBuffer w, long base, float[] x, int xOffset, int n) {
        FloatVector a0 = FloatVector.zero(S);
        int byteBase = (int) (base * 4);
        int i = 0;
        for (; i + L <= n; i += L) {
            a0 = FloatVector.fromByteBuffer(S, w, byteBase + i * 4, LE).fma(FloatVector.fromArray(S, x, xOffset + i), a0);
        }
        float sum = a0.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += w.getFloat(byteBase + i * 4) * x[xOffset + i];
        return sum;
    }

    /** out[outOffset + i] += p * w[base + i], i < n. */
    static void axpy(float p, ByteBuffer w, long base, float[] out, int outOffset, int n) {
        int byteBase = (int) (base * 4);
        FloatVector pv = FloatVector.broadcast(S, p);
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector.fromByteBuffer(S, w, byteBase + i * 4, LE).fma(pv, FloatVector.fromArray(S, out, outOffset + i))
                    .intoArray(out, outOffset + i);
        }
        for (; i < n; i++) out[outOffset + i] += p * w.getFloat(byteBase + i * 4);
    }

    /** Sum of squares of x[0..n). */
    static float sumOfSquares(float[] x, int n) {
        FloatVector a = FloatVector.zero(S);
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, i);
            a = v.fma(v, a);
        }
        float sum = a.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += x[i] * x[i];
        return sum;
    }
}
