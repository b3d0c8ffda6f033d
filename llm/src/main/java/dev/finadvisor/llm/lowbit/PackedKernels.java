package dev.finadvisor.llm.lowbit;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD loops of {@link PackedWeight}: each widens its weights to fp32 in registers (bf16 by a shift, int8 by a
 * conversion, NF4 by a lookup of the 16 code values in a register) and never writes them to memory, so decoding reads
 * each packed byte once. Callers check rows and lengths once per row: the launcher turns the Vector API's check of
 * every access off ({@code -Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0}), which doubles these loops' speed on
 * Java 17. Loaded only when {@code jdk.incubator.vector} is present and a vector holds 8 or 16 floats ({@link #usable()}).
 */
final class PackedKernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** L bytes, widened to L ints or floats. */
    private static final VectorSpecies<Byte> B = L >= 8 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;
    /** The NF4 code values as int bits: all 16 in one vector when L = 16, the first and last 8 when L = 8. */
    private static final IntVector CODES_LOW = codes(0);
    private static final IntVector CODES_HIGH = L == 8 ? codes(8) : null;

    private PackedKernels() {}

    static boolean usable() {
        return L == 8 || L == 16;
    }

    private static IntVector codes(int first) {
        int[] bits = new int[L];
        for (int i = 0; i < L && first + i < 16; i++) bits[i] = Float.floatToRawIntBits(Nf4Code.value(first + i));
        return IntVector.fromArray(I, bits, 0);
    }

    /**
     * bf16 row of {@code n} weights from int {@code off} of {@code w} against {@code xp}, x arranged by {@link #interleave}:
     * an int holds two bf16 weights, the even one in its low half, so a shift and a mask give fp32 weights 2j and 2j+1.
     * Two accumulators, the low halves into one and the high halves into the other: the order {@link #bf16x4} and
     * {@link #bf16x4x2} keep for every row and input. (Two chains are enough: a batch-1 step waits on memory.)
     */
    static float bf16(int[] w, int off, float[] xp, int n) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        for (int i = 0; i < n; i += 4 * L) { // n is a multiple of PackedWeight.GROUP = 64 >= 4L
            IntVector p = IntVector.fromArray(I, w, off + i / 2);
            IntVector q = IntVector.fromArray(I, w, off + i / 2 + L);
            a0 = p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, xp, i), a0);
            a1 = p.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, xp, i + L), a1);
            a0 = q.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, xp, i + 2 * L), a0);
            a1 = q.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, xp, i + 3 * L), a1);
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }

    /** {@link #bf16} for four inputs at once: the row widened once, the same sums, bit for bit, into out[at..at+3]. */
    static void bf16x4(int[] w, int off, float[] x0, float[] x1, float[] x2, float[] x3, int n, float[] out, int at) {
        FloatVector a0 = FloatVector.zero(F), b0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F), b1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F), b2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        for (int i = 0; i < n; i += 4 * L) {
            IntVector p = IntVector.fromArray(I, w, off + i / 2);
            IntVector q = IntVector.fromArray(I, w, off + i / 2 + L);
            FloatVector w0 = p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w1 = p.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector w2 = q.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w3 = q.and(0xFFFF0000).reinterpretAsFloats();
            a0 = w0.fma(FloatVector.fromArray(F, x0, i), a0);
            b0 = w1.fma(FloatVector.fromArray(F, x0, i + L), b0);
            a1 = w0.fma(FloatVector.fromArray(F, x1, i), a1);
            b1 = w1.fma(FloatVector.fromArray(F, x1, i + L), b1);
            a2 = w0.fma(FloatVector.fromArray(F, x2, i), a2);
            b2 = w1.fma(FloatVector.fromArray(F, x2, i + L), b2);
            a3 = w0.fma(FloatVector.fromArray(F, x3, i), a3);
            b3 = w1.fma(FloatVector.fromArray(F, x3, i + L), b3);
            a0 = w2.fma(FloatVector.fromArray(F, x0, i + 2 * L), a0);
            b0 = w3.fma(FloatVector.fromArray(F, x0, i + 3 * L), b0);
            a1 = w2.fma(FloatVector.fromArray(F, x1, i + 2 * L), a1);
            b1 = w3.fma(FloatVector.fromArray(F, x1, i + 3 * L), b1);
            a2 = w2.fma(FloatVector.fromArray(F, x2, i + 2 * L), a2);
            b2 = w3.fma(FloatVector.fromArray(F, x2, i + 3 * L), b2);
            a3 = w2.fma(FloatVector.fromArray(F, x3, i + 2 * L), a3);
            b3 = w3.fma(FloatVector.fromArray(F, x3, i + 3 * L), b3);
        }
        out[at] = a0.add(b0).reduceLanes(VectorOperators.ADD);
        out[at + 1] = a1.add(b1).reduceLanes(VectorOperators.ADD);
        out[at + 2] = a2.add(b2).reduceLanes(VectorOperators.ADD);
        out[at + 3] = a3.add(b3).reduceLanes(VectorOperators.ADD);
    }

    /**
     * {@link #bf16x4} for two rows (from ints {@code off} and {@code off2}) at once: each input's load serves both rows;
     * the same sums, bit for bit, into out[at..at+3] (first row) and out[at2..at2+3] (second).
     */
    static void bf16x4x2(int[] w, int off, int off2, float[] x0, float[] x1, float[] x2, float[] x3, int n, float[] out, int at, int at2) {
        FloatVector a0 = FloatVector.zero(F), b0 = FloatVector.zero(F), c0 = FloatVector.zero(F), d0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F), b1 = FloatVector.zero(F), c1 = FloatVector.zero(F), d1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F), b2 = FloatVector.zero(F), c2 = FloatVector.zero(F), d2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F), b3 = FloatVector.zero(F), c3 = FloatVector.zero(F), d3 = FloatVector.zero(F);
        for (int i = 0; i < n; i += 2 * L) {
            // L ints = weights i..i+2L of each row: the low halves pair with x[i..i+L), the high ones with x[i+L..i+2L)
            IntVector p = IntVector.fromArray(I, w, off + i / 2);
            IntVector q = IntVector.fromArray(I, w, off2 + i / 2);
            FloatVector pl = p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector ph = p.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector ql = q.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector qh = q.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector v = FloatVector.fromArray(F, x0, i);
            FloatVector u = FloatVector.fromArray(F, x0, i + L);
            a0 = pl.fma(v, a0);
            b0 = ph.fma(u, b0);
            c0 = ql.fma(v, c0);
            d0 = qh.fma(u, d0);
            v = FloatVector.fromArray(F, x1, i);
            u = FloatVector.fromArray(F, x1, i + L);
            a1 = pl.fma(v, a1);
            b1 = ph.fma(u, b1);
            c1 = ql.fma(v, c1);
            d1 = qh.fma(u, d1);
            v = FloatVector.fromArray(F, x2, i);
            u = FloatVector.fromArray(F, x2, i + L);
            a2 = pl.fma(v, a2);
            b2 = ph.fma(u, b2);
            c2 = ql.fma(v, c2);
            d2 = qh.fma(u, d2);
            v = FloatVector.fromArray(F, x3, i);
            u = FloatVector.fromArray(F, x3, i + L);
            a3 = pl.fma(v, a3);
            b3 = ph.fma(u, b3);
            c3 = ql.fma(v, c3);
            d3 = qh.fma(u, d3);
        }
        out[at] = a0.add(b0).reduceLanes(VectorOperators.ADD);
        out[at + 1] = a1.add(b1).reduceLanes(VectorOperators.ADD);
        out[at + 2] = a2.add(b2).reduceLanes(VectorOperators.ADD);
        out[at + 3] = a3.add(b3).reduceLanes(VectorOperators.ADD);
        out[at2] = c0.add(d0).reduceLanes(VectorOperators.ADD);
        out[at2 + 1] = c1.add(d1).reduceLanes(VectorOperators.ADD);
        out[at2 + 2] = c2.add(d2).reduceLanes(VectorOperators.ADD);
        out[at2 + 3] = c3.add(d3).reduceLanes(VectorOperators.ADD);
    }

    /** x as {@link #bf16} reads it: in each run of 2L values, the even ones first, then the odd ones. */
    static void interleave(float[] x, int n, float[] xp) {
        for (int c = 0; c < n; c += 2 * L) {
            for (int j = 0; j < L; j++) {
                xp[c + j] = x[c + 2 * j];
                xp[c + L + j] = x[c + 2 * j + 1];
            }
        }
    }

    /** int8 row of {@code groups} groups of 64 weights from byte {@code off} of {@code w}, group g scaled by {@code scales[so + g]}. */
    static float int8(byte[] w, int off, float[] scales, int so, float[] x, int groups) {
        FloatVector total = FloatVector.zero(F);
        for (int g = 0; g < groups; g++) { // written out, not through a helper: so C2 compiles every vector op to instructions
            int q = off + g * PackedWeight.GROUP;
            int xi = g * PackedWeight.GROUP;
            FloatVector a0 = ((FloatVector) ByteVector.fromArray(B, w, q).castShape(F, 0)).mul(FloatVector.fromArray(F, x, xi));
            FloatVector a1 = ((FloatVector) ByteVector.fromArray(B, w, q + L).castShape(F, 0)).mul(FloatVector.fromArray(F, x, xi + L));
            for (int i = 2 * L; i < PackedWeight.GROUP; i += 2 * L) {
                a0 = ((FloatVector) ByteVector.fromArray(B, w, q + i).castShape(F, 0)).fma(FloatVector.fromArray(F, x, xi + i), a0);
                a1 = ((FloatVector) ByteVector.fromArray(B, w, q + i + L).castShape(F, 0)).fma(FloatVector.fromArray(F, x, xi + i + L), a1);
            }
            total = a0.add(a1).fma(FloatVector.broadcast(F, scales[so + g]), total);
        }
        return total.reduceLanes(VectorOperators.ADD);
    }

    /** {@link #int8} for four inputs at once: each group's codes widened once; the same sums, bit for bit, into out[at..at+3]. */
    static void int8x4(byte[] w, int off, float[] scales, int so, float[] x0, float[] x1, float[] x2, float[] x3, int groups, float[] out, int at) {
        FloatVector t0 = FloatVector.zero(F), t1 = FloatVector.zero(F), t2 = FloatVector.zero(F), t3 = FloatVector.zero(F);
        for (int g = 0; g < groups; g++) {
            int q = off + g * PackedWeight.GROUP;
            int xi = g * PackedWeight.GROUP;
            FloatVector w0 = (FloatVector) ByteVector.fromArray(B, w, q).castShape(F, 0);
            FloatVector w1 = (FloatVector) ByteVector.fromArray(B, w, q + L).castShape(F, 0);
            FloatVector a00 = w0.mul(FloatVector.fromArray(F, x0, xi)), a01 = w1.mul(FloatVector.fromArray(F, x0, xi + L));
            FloatVector a10 = w0.mul(FloatVector.fromArray(F, x1, xi)), a11 = w1.mul(FloatVector.fromArray(F, x1, xi + L));
            FloatVector a20 = w0.mul(FloatVector.fromArray(F, x2, xi)), a21 = w1.mul(FloatVector.fromArray(F, x2, xi + L));
            FloatVector a30 = w0.mul(FloatVector.fromArray(F, x3, xi)), a31 = w1.mul(FloatVector.fromArray(F, x3, xi + L));
            for (int i = 2 * L; i < PackedWeight.GROUP; i += 2 * L) {
                w0 = (FloatVector) ByteVector.fromArray(B, w, q + i).castShape(F, 0);
                w1 = (FloatVector) ByteVector.fromArray(B, w, q + i + L).castShape(F, 0);
                a00 = w0.fma(FloatVector.fromArray(F, x0, xi + i), a00);
                a01 = w1.fma(FloatVector.fromArray(F, x0, xi + i + L), a01);
                a10 = w0.fma(FloatVector.fromArray(F, x1, xi + i), a10);
                a11 = w1.fma(FloatVector.fromArray(F, x1, xi + i + L), a11);
                a20 = w0.fma(FloatVector.fromArray(F, x2, xi + i), a20);
                a21 = w1.fma(FloatVector.fromArray(F, x2, xi + i + L), a21);
                a30 = w0.fma(FloatVector.fromArray(F, x3, xi + i), a30);
                a31 = w1.fma(FloatVector.fromArray(F, x3, xi + i + L), a31);
            }
            FloatVector scale = FloatVector.broadcast(F, scales[so + g]);
            t0 = a00.add(a01).fma(scale, t0);
            t1 = a10.add(a11).fma(scale, t1);
            t2 = a20.add(a21).fma(scale, t2);
            t3 = a30.add(a31).fma(scale, t3);
        }
        out[at] = t0.reduceLanes(VectorOperators.ADD);
        out[at + 1] = t1.reduceLanes(VectorOperators.ADD);
        out[at + 2] = t2.reduceLanes(VectorOperators.ADD);
        out[at + 3] = t3.reduceLanes(VectorOperators.ADD);
    }

    /**
     * NF4 row of {@code groups} blocks of 32 bytes from byte {@code off} of {@code w} (byte j of a block holds weight j in its
     * low nibble and weight j + 32 in its high one), block g scaled by its absmax {@code scales[so + g]}; each nibble
     * becomes its code value by a lane shuffle. Written out for 16 lanes: through a helper method, C2 left some of these
     * ops to the Vector API's Java fallback (JFR: 5-25% of decode samples).
     */
    static float nf4(byte[] w, int off, float[] scales, int so, float[] x, int groups) {
        if (L != 16) return nf4Narrow(w, off, scales, so, x, groups);
        FloatVector total = FloatVector.zero(F);
        for (int g = 0; g < groups; g++) {
            int q = off + g * PackedWeight.GROUP / 2;
            int xi = g * PackedWeight.GROUP;
            IntVector iv = (IntVector) ByteVector.fromArray(B, w, q).castShape(I, 0);
            IntVector iw = (IntVector) ByteVector.fromArray(B, w, q + 16).castShape(I, 0);
            FloatVector a0 = CODES_LOW.rearrange(iv.and(15).toShuffle()).reinterpretAsFloats().mul(FloatVector.fromArray(F, x, xi));
            FloatVector a1 = CODES_LOW.rearrange(iv.lanewise(VectorOperators.LSHR, 4).and(15).toShuffle()).reinterpretAsFloats()
                    .mul(FloatVector.fromArray(F, x, xi + 32));
            a0 = CODES_LOW.rearrange(iw.and(15).toShuffle()).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi + 16), a0);
            a1 = CODES_LOW.rearrange(iw.lanewise(VectorOperators.LSHR, 4).and(15).toShuffle()).reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, x, xi + 48), a1);
            total = a0.add(a1).fma(FloatVector.broadcast(F, scales[so + g]), total);
        }
        return total.reduceLanes(VectorOperators.ADD);
    }

    /** {@link #nf4} (16 lanes) for four inputs at once: each block's nibbles looked up once; the same sums, bit for bit, into out[at..at+3]. */
    static void nf4x4(byte[] w, int off, float[] scales, int so, float[] x0, float[] x1, float[] x2, float[] x3, int groups, float[] out, int at) {
        FloatVector t0 = FloatVector.zero(F), t1 = FloatVector.zero(F), t2 = FloatVector.zero(F), t3 = FloatVector.zero(F);
        for (int g = 0; g < groups; g++) {
            int q = off + g * PackedWeight.GROUP / 2;
            int xi = g * PackedWeight.GROUP;
            IntVector iv = (IntVector) ByteVector.fromArray(B, w, q).castShape(I, 0);
            IntVector iw = (IntVector) ByteVector.fromArray(B, w, q + 16).castShape(I, 0);
            FloatVector c0 = CODES_LOW.rearrange(iv.and(15).toShuffle()).reinterpretAsFloats();
            FloatVector c1 = CODES_LOW.rearrange(iv.lanewise(VectorOperators.LSHR, 4).and(15).toShuffle()).reinterpretAsFloats();
            FloatVector c2 = CODES_LOW.rearrange(iw.and(15).toShuffle()).reinterpretAsFloats();
            FloatVector c3 = CODES_LOW.rearrange(iw.lanewise(VectorOperators.LSHR, 4).and(15).toShuffle()).reinterpretAsFloats();
            FloatVector scale = FloatVector.broadcast(F, scales[so + g]);
            t0 = c2.fma(FloatVector.fromArray(F, x0, xi + 16), c0.mul(FloatVector.fromArray(F, x0, xi)))
                    .add(c3.fma(FloatVector.fromArray(F, x0, xi + 48), c1.mul(FloatVector.fromArray(F, x0, xi + 32)))).fma(scale, t0);
            t1 = c2.fma(FloatVector.fromArray(F, x1, xi + 16), c0.mul(FloatVector.fromArray(F, x1, xi)))
                    .add(c3.fma(FloatVector.fromArray(F, x1, xi + 48), c1.mul(FloatVector.fromArray(F, x1, xi + 32)))).fma(scale, t1);
            t2 = c2.fma(FloatVector.fromArray(F, x2, xi + 16), c0.mul(FloatVector.fromArray(F, x2, xi)))
                    .add(c3.fma(FloatVector.fromArray(F, x2, xi + 48), c1.mul(FloatVector.fromArray(F, x2, xi + 32)))).fma(scale, t2);
            t3 = c2.fma(FloatVector.fromArray(F, x3, xi + 16), c0.mul(FloatVector.fromArray(F, x3, xi)))
                    .add(c3.fma(FloatVector.fromArray(F, x3, xi + 48), c1.mul(FloatVector.fromArray(F, x3, xi + 32)))).fma(scale, t3);
        }
        out[at] = t0.reduceLanes(VectorOperators.ADD);
        out[at + 1] = t1.reduceLanes(VectorOperators.ADD);
        out[at + 2] = t2.reduceLanes(VectorOperators.ADD);
        out[at + 3] = t3.reduceLanes(VectorOperators.ADD);
    }

    /** {@link #nf4} a block at a time, L lanes at a time (any L of 8 or 16): what AVX2 machines run. */
    static float nf4Narrow(byte[] w, int off, float[] scales, int so, float[] x, int groups) {
        FloatVector total = FloatVector.zero(F);
        for (int g = 0; g < groups; g++) {
            int q = off + g * PackedWeight.GROUP / 2;
            int xi = g * PackedWeight.GROUP;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            for (int j = 0; j < PackedWeight.GROUP / 2; j += L) {
                IntVector bytes = (IntVector) ByteVector.fromArray(B, w, q + j).castShape(I, 0);
                a0 = code(bytes.and(15)).fma(FloatVector.fromArray(F, x, xi + j), a0);
                a1 = code(bytes.lanewise(VectorOperators.LSHR, 4).and(15)).fma(FloatVector.fromArray(F, x, xi + 32 + j), a1);
            }
            total = a0.add(a1).fma(FloatVector.broadcast(F, scales[so + g]), total);
        }
        return total.reduceLanes(VectorOperators.ADD);
    }

    /** The code values of nibbles 0..15 (L = 8: indexes 8..15 wrap to the second table). */
    private static FloatVector code(IntVector nibbles) {
        VectorShuffle<Integer> s = nibbles.toShuffle();
        if (CODES_HIGH == null) return CODES_LOW.rearrange(s).reinterpretAsFloats();
        return CODES_LOW.rearrange(s, CODES_HIGH).reinterpretAsFloats();
    }
}
