package dev.finadvisor.llm.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD loops of {@link JavaDecode}, over fp32 rows held in the engine's own memory (direct
 * buffers of the weight tensors): a decode step reads every weight once per token, so these loops
 * must stream memory at the machine's bandwidth, which libtorch's GEMV does not reach on this CPU.
 * Only loaded when the {@code jdk.incubator.vector} module is present ({@link dev.finadvisor.llm.EngineMemory#VECTOR_API}).
 */
final class VectorKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder LE = ByteOrder.nativeOrder(); // the engine writes tensors in native order

    private VectorKernels() {}

    /**
     * Sum over i of w[base + i] * x[i], i < n; {@code base} in floats. One accumulator, its lanes reduced, then the
     * scalar tail: the order {@link #dots} keeps for every row and input, whatever the batch. (One accumulator costs a
     * batch-1 step nothing: it reads each weight from memory once, and memory is slower than the FMA chain.)
     */
    static float dot(ByteBuffer w, long base, float[] x, int n) {
        return dot(w, base, x, 0, n);
    }

    /**
     * {@code out[r * n + b] = dot(w, base + r * len, x[b], len)} for rows r < rows and inputs b < n, each bit for bit as
     * {@link #dot(ByteBuffer, long, float[], int)} computes it alone, so a sequence's result does not depend on the batch
     * it is in. Four rows by four inputs at a time: each load of a weight serves four inputs and each load of an input
     * four rows, so a decode batch runs at the FMA units' speed rather than the loads'.
     */
    static void dots(ByteBuffer w, long base, int rows, float[][] x, int n, int len, float[] out) {
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            int b = 0;
            for (; b + 4 <= n; b += 4) dot4x4(w, base + (long) r * len, x[b], x[b + 1], x[b + 2], x[b + 3], len, out, r * n + b, n);
            for (; b < n; b++) {
                for (int k = 0; k < 4; k++) out[(r + k) * n + b] = dot(w, base + (long) (r + k) * len, x[b], len);
            }
        }
        for (; r < rows; r++) {
            for (int b = 0; b < n; b++) out[r * n + b] = dot(w, base + (long) r * len, x[b], len);
        }
    }

    /** Four rows from {@code base} (n floats each) times inputs x0..x3 into {@code out[at + k * outStride + j]}. */
    private static void dot4x4(ByteBuffer w, long base, float[] x0, float[] x1, float[] x2, float[] x3, int n, float[] out, int at, int outStride) {
        FloatVector a00 = FloatVector.zero(S), a01 = FloatVector.zero(S), a02 = FloatVector.zero(S), a03 = FloatVector.zero(S);
        FloatVector a10 = FloatVector.zero(S), a11 = FloatVector.zero(S), a12 = FloatVector.zero(S), a13 = FloatVector.zero(S);
        FloatVector a20 = FloatVector.zero(S), a21 = FloatVector.zero(S), a22 = FloatVector.zero(S), a23 = FloatVector.zero(S);
        FloatVector a30 = FloatVector.zero(S), a31 = FloatVector.zero(S), a32 = FloatVector.zero(S), a33 = FloatVector.zero(S);
        int r0 = (int) (base * 4);
        int r1 = r0 + n * 4;
        int r2 = r1 + n * 4;
        int r3 = r2 + n * 4;
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector v0 = FloatVector.fromArray(S, x0, i);
            FloatVector v1 = FloatVector.fromArray(S, x1, i);
            FloatVector v2 = FloatVector.fromArray(S, x2, i);
            FloatVector v3 = FloatVector.fromArray(S, x3, i);
            FloatVector w0 = FloatVector.fromByteBuffer(S, w, r0 + i * 4, LE);
            a00 = w0.fma(v0, a00);
            a01 = w0.fma(v1, a01);
            a02 = w0.fma(v2, a02);
            a03 = w0.fma(v3, a03);
            FloatVector w1 = FloatVector.fromByteBuffer(S, w, r1 + i * 4, LE);
            a10 = w1.fma(v0, a10);
            a11 = w1.fma(v1, a11);
            a12 = w1.fma(v2, a12);
            a13 = w1.fma(v3, a13);
            FloatVector w2 = FloatVector.fromByteBuffer(S, w, r2 + i * 4, LE);
            a20 = w2.fma(v0, a20);
            a21 = w2.fma(v1, a21);
            a22 = w2.fma(v2, a22);
            a23 = w2.fma(v3, a23);
            FloatVector w3 = FloatVector.fromByteBuffer(S, w, r3 + i * 4, LE);
            a30 = w3.fma(v0, a30);
            a31 = w3.fma(v1, a31);
            a32 = w3.fma(v2, a32);
            a33 = w3.fma(v3, a33);
        }
        // each accumulator reduced on its own: vectors gathered into an array would be boxed, and the loop with them
        out[at] = tail(a00.reduceLanes(VectorOperators.ADD), w, r0, x0, i, n);
        out[at + 1] = tail(a01.reduceLanes(VectorOperators.ADD), w, r0, x1, i, n);
        out[at + 2] = tail(a02.reduceLanes(VectorOperators.ADD), w, r0, x2, i, n);
        out[at + 3] = tail(a03.reduceLanes(VectorOperators.ADD), w, r0, x3, i, n);
        at += outStride;
        out[at] = tail(a10.reduceLanes(VectorOperators.ADD), w, r1, x0, i, n);
        out[at + 1] = tail(a11.reduceLanes(VectorOperators.ADD), w, r1, x1, i, n);
        out[at + 2] = tail(a12.reduceLanes(VectorOperators.ADD), w, r1, x2, i, n);
        out[at + 3] = tail(a13.reduceLanes(VectorOperators.ADD), w, r1, x3, i, n);
        at += outStride;
        out[at] = tail(a20.reduceLanes(VectorOperators.ADD), w, r2, x0, i, n);
        out[at + 1] = tail(a21.reduceLanes(VectorOperators.ADD), w, r2, x1, i, n);
        out[at + 2] = tail(a22.reduceLanes(VectorOperators.ADD), w, r2, x2, i, n);
        out[at + 3] = tail(a23.reduceLanes(VectorOperators.ADD), w, r2, x3, i, n);
        at += outStride;
        out[at] = tail(a30.reduceLanes(VectorOperators.ADD), w, r3, x0, i, n);
        out[at + 1] = tail(a31.reduceLanes(VectorOperators.ADD), w, r3, x1, i, n);
        out[at + 2] = tail(a32.reduceLanes(VectorOperators.ADD), w, r3, x2, i, n);
        out[at + 3] = tail(a33.reduceLanes(VectorOperators.ADD), w, r3, x3, i, n);
    }

    /** {@code sum} plus the scalar products from {@code from} to n, as {@link #dot(ByteBuffer, long, float[], int)} ends. */
    private static float tail(float sum, ByteBuffer w, int rowByte, float[] x, int from, int n) {
        for (int t = from; t < n; t++) sum += w.getFloat(rowByte + t * 4) * x[t];
        return sum;
    }

    /** {@link #dot(ByteBuffer, long, float[], int)} with x read from {@code x[xOffset..]}. */
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
