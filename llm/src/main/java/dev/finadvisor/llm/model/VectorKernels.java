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

    /**
     * {@code sums[b] = dot(w, base, x[b], len)} for b < n, each bit for bit as {@link #dot(ByteBuffer, long, float[], int)}
     * computes it alone (same accumulators, same order), so a sequence's result does not depend on the batch it is in:
     * four inputs at a time share each load of the row, which a decode batch reads from cache after the first.
     */
    static void dots(ByteBuffer w, long base, float[][] x, int n, int len, float[] sums) {
        int b = 0;
        for (; b + 4 <= n; b += 4) dot4(w, base, x[b], x[b + 1], x[b + 2], x[b + 3], len, sums, b);
        for (; b < n; b++) sums[b] = dot(w, base, x[b], len);
    }

    private static void dot4(ByteBuffer w, long base, float[] x0, float[] x1, float[] x2, float[] x3, int n, float[] sums, int at) {
        FloatVector a00 = FloatVector.zero(S), a01 = FloatVector.zero(S);
        FloatVector a10 = FloatVector.zero(S), a11 = FloatVector.zero(S);
        FloatVector a20 = FloatVector.zero(S), a21 = FloatVector.zero(S);
        FloatVector a30 = FloatVector.zero(S), a31 = FloatVector.zero(S);
        int byteBase = (int) (base * 4);
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            FloatVector w0 = FloatVector.fromByteBuffer(S, w, byteBase + i * 4, LE);
            FloatVector w1 = FloatVector.fromByteBuffer(S, w, byteBase + (i + L) * 4, LE);
            a00 = w0.fma(FloatVector.fromArray(S, x0, i), a00);
            a01 = w1.fma(FloatVector.fromArray(S, x0, i + L), a01);
            a10 = w0.fma(FloatVector.fromArray(S, x1, i), a10);
            a11 = w1.fma(FloatVector.fromArray(S, x1, i + L), a11);
            a20 = w0.fma(FloatVector.fromArray(S, x2, i), a20);
            a21 = w1.fma(FloatVector.fromArray(S, x2, i + L), a21);
            a30 = w0.fma(FloatVector.fromArray(S, x3, i), a30);
            a31 = w1.fma(FloatVector.fromArray(S, x3, i + L), a31);
        }
        for (; i + L <= n; i += L) {
            FloatVector w0 = FloatVector.fromByteBuffer(S, w, byteBase + i * 4, LE);
            a00 = w0.fma(FloatVector.fromArray(S, x0, i), a00);
            a10 = w0.fma(FloatVector.fromArray(S, x1, i), a10);
            a20 = w0.fma(FloatVector.fromArray(S, x2, i), a20);
            a30 = w0.fma(FloatVector.fromArray(S, x3, i), a30);
        }
        float s0 = a00.add(a01).reduceLanes(VectorOperators.ADD);
        float s1 = a10.add(a11).reduceLanes(VectorOperators.ADD);
        float s2 = a20.add(a21).reduceLanes(VectorOperators.ADD);
        float s3 = a30.add(a31).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float wi = w.getFloat(byteBase + i * 4);
            s0 += wi * x0[i];
            s1 += wi * x1[i];
            s2 += wi * x2[i];
            s3 += wi * x3[i];
        }
        sums[at] = s0;
        sums[at + 1] = s1;
        sums[at + 2] = s2;
        sums[at + 3] = s3;
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
