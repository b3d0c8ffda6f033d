package dev.finadvisor.llm.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class Nf4Test {
    private static NDManager manager;
    private static Nf4 nf4;
    private final long seed = System.nanoTime();
    private final SplittableRandom random = new SplittableRandom(seed);

    @BeforeAll
    static void start() {
        manager = NDManager.newBaseManager();
        nf4 = new Nf4(manager);
    }

    @AfterAll
    static void stop() {
        nf4.close();
        manager.close();
    }

    /** Gaussian weights with a few outliers, the shape NF4 is designed for; the length is not a block multiple. */
    private float[] weights(int n) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (random.nextGaussian() * 0.02);
            if (random.nextInt(500) == 0) w[i] *= 20;
        }
        return w;
    }

    @Test
    void codeBookIsTheQloraPapersSixteenSortedValuesWithExactZero() {
        assertThat(Nf4.CODE).hasSize(16);
        for (int i = 1; i < 16; i++) assertThat(Nf4.CODE[i]).isGreaterThan(Nf4.CODE[i - 1]);
        assertThat(Nf4.code(0)).isEqualTo(-1f);
        assertThat(Nf4.code(7)).isEqualTo(0f);
        assertThat(Nf4.code(15)).isEqualTo(1f);
        assertThat(Nf4.code(8)).isEqualTo(0.07958029955625534f);
    }

    @Test
    void nearestCodeIsTheClosestOfAllSixteen() {
        for (int t = 0; t < 100_000; t++) {
            float x = (float) (random.nextDouble() * 2 - 1);
            int q = Nf4.nearestCode(x);
            for (int j = 0; j < 16; j++) {
                // within one ulp of x: the midpoints are fp32 (as bitsandbytes'), so an x a rounding step from one may go either way
                assertThat(Math.abs(x - Nf4.CODE[q])).as("x=%s seed=%s", x, seed)
                        .isLessThanOrEqualTo(Math.abs(x - Nf4.CODE[j]) + Math.ulp(x));
            }
        }
    }

    @Test
    void roundTripErrorIsWithinHalfTheCodeGapTimesTheBlockAbsmax() {
        int rows = 37;
        int cols = 67; // 2479 values: the last block is partly padding
        float[] w = weights(rows * cols);
        try (Nf4Tensor q = nf4.quantize(w, new Shape(rows, cols)); NDManager step = manager.newSubManager()) {
            float[] back = q.dequantize(step).toFloatArray();
            float[] absmax = q.blockAbsmax();
            assertThat(back).hasSize(w.length);
            for (int b = 0; b < absmax.length; b++) {
                float trueMax = 0;
                for (int i = b * 64; i < Math.min(w.length, b * 64 + 64); i++) trueMax = Math.max(trueMax, Math.abs(w[i]));
                // double quantisation moves the absmax by at most half an 8-bit step of the absmax spread
                assertThat(Math.abs(absmax[b] - trueMax)).isLessThanOrEqualTo(maxAbsmaxStep(w) / 2 * 1.0001f + 1e-9f);
            }
            for (int i = 0; i < w.length; i++) {
                float a = absmax[i / 64];
                float x = Math.max(-1, Math.min(1, w[i] / a));
                int lower = 0;
                while (lower < 14 && Nf4.CODE[lower + 1] <= x) lower++;
                float halfGap = (Nf4.CODE[lower + 1] - Nf4.CODE[lower]) / 2;
                float clampLoss = Math.max(0, Math.abs(w[i]) - a);
                float bound = a * halfGap + clampLoss + 1e-7f * a;
                assertThat(Math.abs(back[i] - w[i])).as("element %d seed %d", i, seed).isLessThanOrEqualTo(bound);
                // and the dequantised value is exactly a code value times the block absmax
                int code = nearestIndex(back[i] / a);
                assertThat(back[i]).isEqualTo(Nf4.CODE[code] * a);
            }
        }
    }

    /** The spread of the absmax values over 127: the double quantisation's step for a single group. */
    private static float maxAbsmaxStep(float[] w) {
        int blocks = (w.length + 63) / 64;
        float[] a = new float[blocks];
        double sum = 0;
        for (int b = 0; b < blocks; b++) {
            for (int i = b * 64; i < Math.min(w.length, b * 64 + 64); i++) a[b] = Math.max(a[b], Math.abs(w[i]));
            sum += a[b];
        }
        float mean = (float) (sum / blocks);
        float dev = 0;
        for (float x : a) dev = Math.max(dev, Math.abs(x - mean));
        return dev / 127f;
    }

    private static int nearestIndex(float x) {
        int best = 0;
        for (int j = 1; j < 16; j++) if (Math.abs(x - Nf4.CODE[j]) < Math.abs(x - Nf4.CODE[best])) best = j;
        return best;
    }

    @Test
    void lookupDequantisationEqualsTheScalarDefinitionBitForBit() {
        float[] w = weights(64 * 300 + 10); // two absmax groups of 256 blocks
        try (Nf4Tensor q = nf4.quantize(w, new Shape(w.length)); NDManager step = manager.newSubManager()) {
            byte[] packed = q.packedCodes();
            float[] absmax = q.blockAbsmax();
            float[] viaLookup = q.dequantize(step).toFloatArray();
            for (int i = 0; i < w.length; i++) {
                int b = packed[i / 2] & 0xFF;
                int code = i % 2 == 0 ? b >>> 4 : b & 15;
                assertThat(viaLookup[i]).as("element %d", i).isEqualTo(Nf4.CODE[code] * absmax[i / 64]);
            }
        }
    }

    @Test
    void javaDequantisationIsBitIdenticalToTheEngineOpLookup() {
        // shapes: a 768 x 768 layer, a 3072 x 768 one (36 absmax groups), a padded last block
        // (37 x 67) and a tensor shorter than one block
        int[][] shapes = {{768, 768}, {3072, 768}, {37, 67}, {1, 5}};
        for (int[] dims : shapes) {
            float[] w = weights(dims[0] * dims[1]);
            try (Nf4Tensor q = nf4.quantize(w, new Shape(dims[0], dims[1])); NDManager step = manager.newSubManager()) {
                NDArray fast = q.dequantize(step);
                NDArray engine = q.dequantizeWithEngineOps(step);
                assertThat(fast.getShape()).isEqualTo(new Shape(dims[0], dims[1]));
                assertThat(fast.getDataType()).isEqualTo(DataType.FLOAT32);
                float[] a = fast.toFloatArray();
                float[] b = engine.toFloatArray();
                assertThat(a).hasSize(w.length);
                for (int i = 0; i < a.length; i++) {
                    assertThat(Float.floatToRawIntBits(a[i])).as("%s element %d seed %d", java.util.Arrays.toString(dims), i, seed)
                            .isEqualTo(Float.floatToRawIntBits(b[i]));
                }
            }
        }
    }

    @Test
    void nf4LinearMultipliesByTheDequantisedWeightAndPassesTheInputGradient() {
        float[] w = weights(96 * 128);
        float[] bias = weights(96);
        try (Nf4Tensor q = nf4.quantize(w, new Shape(96, 128)); NDManager step = manager.newSubManager()) {
            Nf4Linear layer = new Nf4Linear(q, step.create(bias));
            NDArray x = step.randomNormal(0, 1, new Shape(2, 5, 128), DataType.FLOAT32);
            x.setRequiresGradient(true);
            NDArray dy = step.randomNormal(0, 1, new Shape(2, 5, 96), DataType.FLOAT32);
            NDArray wRef = q.dequantizeWithEngineOps(step);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = layer.apply(x);
                float[] expected = x.stopGradient().matMul(wRef.transpose()).add(step.create(bias)).toFloatArray();
                float[] got = y.toFloatArray();
                for (int i = 0; i < got.length; i++) assertThat(got[i]).isCloseTo(expected[i], within(1e-5f));
                gc.backward(y.mul(dy).sum());
            }
            float[] dx = x.getGradient().toFloatArray();
            float[] expectedDx = dy.matMul(wRef).toFloatArray();
            for (int i = 0; i < dx.length; i++) assertThat(dx[i]).isCloseTo(expectedDx[i], within(1e-5f));
        }
    }

    @Test
    void allZeroBlocksStayExactlyZero() {
        float[] w = new float[256];
        for (int i = 128; i < 192; i++) w[i] = (float) random.nextGaussian();
        try (Nf4Tensor q = nf4.quantize(w, new Shape(4, 64)); NDManager step = manager.newSubManager()) {
            float[] back = q.dequantize(step).toFloatArray();
            for (int i = 0; i < 128; i++) assertThat(back[i]).isZero();
            for (int i = 192; i < 256; i++) assertThat(back[i]).isZero();
        }
    }

    @Test
    void holdsAboutHalfAByteperParameter() {
        float[] w = weights(768 * 768);
        try (Nf4Tensor q = nf4.quantize(w, new Shape(768, 768))) {
            // 0.5 byte of codes + 1/64 byte of absmax code + 4/16384 byte of scale
            assertThat(q.bytesPerParameter()).isLessThanOrEqualTo(0.6).isCloseTo(0.5 + 1 / 64.0, org.assertj.core.data.Offset.offset(0.001));
            assertThat(q.bytesHeld()).isEqualTo(768 * 768 / 2 + 768 * 768 / 64 + 4L * 36 + 4);
        }
    }

    @Test
    void nonFiniteWeightsAreRejectedWithTheirPosition() {
        float[] w = weights(128);
        w[70] = Float.NaN;
        assertThatThrownBy(() -> nf4.quantize(w, new Shape(2, 64))).hasMessageContaining("weight 70").hasMessageContaining("NaN");
    }
}
