package dev.finadvisor.llm.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finadvisor.llm.EngineMemory;
import dev.finadvisor.llm.lowbit.Nf4Code;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * The 4-bit NormalFloat data type of the QLoRA paper (Dettmers et al. 2023): weights in blocks of
 * {@value #BLOCK} share one absmax, each weight becomes the index of the nearest of 16 code values,
 * and the absmax values are themselves quantised to 8 bits in blocks of {@value #ABSMAX_BLOCK}
 * ("double quantisation"). Owns the 256-entry byte -> (high, low) code-pair table that turns
 * dequantisation into one lookup per byte.
 */
public final class Nf4 implements AutoCloseable {
    public static final int BLOCK = 64;
    public static final int ABSMAX_BLOCK = 256;

    /** The code book of the paper (bitsandbytes' NF4 values): quantiles of N(0,1) scaled to [-1, 1], exact 0. */
    static final float[] CODE = Nf4Code.values();

    /** byte -> (code of the high nibble, code of the low nibble), as 512 floats: the Java lookup table. */
    static final float[] PAIRS = new float[256 * 2];

    static {
        for (int b = 0; b < 256; b++) {
            PAIRS[2 * b] = CODE[b >>> 4];
            PAIRS[2 * b + 1] = CODE[b & 15];
        }
    }

    private final NDManager manager;
    private final NDArray pairTable;

    /** Creates the lookup table in a sub-manager of {@code parent}; closing this frees it. */
    public Nf4(NDManager parent) {
        this.manager = parent.newSubManager();
        this.pairTable = manager.create(PAIRS, new Shape(256, 2));
    }

    /** The code value with index {@code i} (0..15). */
    public static float code(int i) {
        return Nf4Code.value(i);
    }

    /** Index of the code value nearest to {@code x} (x is clamped to [-1, 1]; ties go to the lower code). */
    public static int nearestCode(float x) {
        return Nf4Code.nearest(x);
    }

    /**
     * Quantises a floating-point tensor of any shape. The block absmax values are double-quantised
     * first and the weights normalised by the dequantised absmax, so each weight gets the code
     * nearest to it given the scale that dequantisation will actually use.
     */
    public Nf4Tensor quantize(NDArray weight) {
        ByteBuffer memory = EngineMemory.floats(weight); // null unless a fp32 CPU tensor
        // read in place where the engine's memory is reachable: no copy of the weight on the Java heap
        return quantize(memory != null ? memory.asFloatBuffer() : FloatBuffer.wrap(weight.toType(DataType.FLOAT32, false).toFloatArray()),
                weight.getShape());
    }

    /** Quantises {@code w} (row-major, {@code shape.size()} values). */
    public Nf4Tensor quantize(float[] w, Shape shape) {
        return quantize(FloatBuffer.wrap(w), shape);
    }

    private Nf4Tensor quantize(FloatBuffer values, Shape shape) {
        if (values.remaining() != shape.size()) {
            throw new IllegalArgumentException("NF4: " + values.remaining() + " values for shape " + shape);
        }
        FloatBuffer w = values.slice();
        int n = w.capacity();
        int blocks = Math.max(1, ceilDiv(n, BLOCK));
        int groups = ceilDiv(blocks, ABSMAX_BLOCK);

        float[] absmax = new float[blocks];
        for (int b = 0; b < blocks; b++) {
            float m = 0f;
            for (int i = b * BLOCK, end = Math.min(n, i + BLOCK); i < end; i++) {
                float v = w.get(i);
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException("NF4: weight " + i + " of shape " + shape + " is " + v);
                }
                m = Math.max(m, Math.abs(v));
            }
            absmax[b] = m;
        }
        // Double quantisation: absmax values are all positive, so centre them on their mean before
        // symmetric 8-bit quantisation (the paper's trick), one fp32 scale per 256 blocks.
        double sum = 0;
        for (float a : absmax) sum += a;
        float offset = (float) (sum / blocks);
        byte[] absmaxCodes = new byte[groups * ABSMAX_BLOCK];
        float[] scales = new float[groups];
        float[] dequantAbsmax = new float[blocks];
        for (int g = 0; g < groups; g++) {
            int start = g * ABSMAX_BLOCK;
            int end = Math.min(blocks, start + ABSMAX_BLOCK);
            float maxDev = 0f;
            for (int b = start; b < end; b++) maxDev = Math.max(maxDev, Math.abs(absmax[b] - offset));
            float scale = maxDev / 127f;
            scales[g] = scale;
            for (int b = start; b < end; b++) {
                int c = scale == 0f ? 0 : Math.round((absmax[b] - offset) / scale);
                c = Math.max(-127, Math.min(127, c));
                absmaxCodes[b] = (byte) c;
                dequantAbsmax[b] = dequantAbsmax(c, scale, offset);
            }
        }

        byte[] packed = new byte[blocks * BLOCK / 2];
        for (int b = 0; b < blocks; b++) {
            float a = dequantAbsmax[b];
            for (int j = 0; j < BLOCK; j += 2) {
                int i = b * BLOCK + j;
                int hi = codeOf(i < n ? w.get(i) : 0f, a);
                int lo = codeOf(i + 1 < n ? w.get(i + 1) : 0f, a);
                packed[i / 2] = (byte) ((hi << 4) | lo);
            }
        }
        NDManager m = manager.newSubManager();
        NDArray packedArray = m.create(ByteBuffer.wrap(packed), new Shape(packed.length), DataType.UINT8);
        NDArray codesArray = m.create(ByteBuffer.wrap(absmaxCodes), new Shape(groups, ABSMAX_BLOCK), DataType.INT8);
        NDArray scalesArray = m.create(scales, new Shape(groups, 1));
        NDArray offsetArray = m.create(new float[] {offset}, new Shape(1));
        return new Nf4Tensor(m, shape, pairTable, packedArray, codesArray, scalesArray, offsetArray);
    }

    /** The absmax a block's 8-bit code stands for; the lookup path computes exactly this in fp32. */
    static float dequantAbsmax(int code, float scale, float offset) {
        return (float) code * scale + offset;
    }

    private static int codeOf(float v, float absmax) {
        if (absmax <= 0f) return 7; // the exact zero code: an all-zero block (or a degenerate scale)
        float x = Math.max(-1f, Math.min(1f, v / absmax));
        return nearestCode(x);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    @Override
    public void close() {
        manager.close();
    }
}
