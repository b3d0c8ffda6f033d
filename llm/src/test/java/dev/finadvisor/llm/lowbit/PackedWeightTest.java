package dev.finadvisor.llm.lowbit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finadvisor.llm.EngineMemory;
import dev.finadvisor.llm.safetensors.Dtype;
import dev.finadvisor.llm.safetensors.HalfFloats;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class PackedWeightTest {
    /** A matrix of Gaussian weights with a few large outliers, as fp32 little-endian bytes. */
    private static float[] weights(int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) (rnd.nextGaussian() * 0.05 * (rnd.nextInt(50) == 0 ? 20 : 1));
        return w;
    }

    private static PackedWeight pack(WeightFormat format, float[] w, int rows, int cols) {
        ByteBuffer src = ByteBuffer.allocate(4 * w.length).order(ByteOrder.LITTLE_ENDIAN);
        src.asFloatBuffer().put(w);
        PackedWeight p = PackedWeight.allocate(format, rows, cols);
        float[] scratch = new float[cols];
        for (int r = 0; r < rows; r++) assertThat(p.packRow(r, src, 4 * r * cols, Dtype.F32, scratch)).isEqualTo(-1);
        return p;
    }

    @ParameterizedTest
    @CsvSource({"BF16, 128", "BF16, 200", "INT8, 128", "INT8, 200", "NF4, 128", "NF4, 200"})
    void dequantisedValuesAreTheFormatsOwn(WeightFormat format, int cols) {
        int rows = 7;
        float[] w = weights(rows, cols, cols);
        float[] back = new float[rows * cols];
        pack(format, w, rows, cols).dequantize(0, rows, FloatBuffer.wrap(back));
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < cols; g += 64) {
                float absmax = 0;
                for (int i = g; i < Math.min(cols, g + 64); i++) absmax = Math.max(absmax, Math.abs(w[r * cols + i]));
                for (int i = g; i < Math.min(cols, g + 64); i++) {
                    float x = w[r * cols + i];
                    float expected = switch (format) {
                        case BF16 -> HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(x));
                        case INT8 -> Math.round(x / (absmax / 127f)) * (absmax / 127f);
                        case NF4 -> nearestNf4(x / absmax) * absmax; // brute force over the 16 codes
                        default -> throw new AssertionError();
                    };
                    assertThat(back[r * cols + i]).as("%s [%d, %d]", format, r, i).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-7f));
                }
            }
        }
    }

    private static float nearestNf4(float x) {
        float best = Nf4Code.value(0);
        for (int c = 1; c < 16; c++) if (Math.abs(x - Nf4Code.value(c)) < Math.abs(x - best)) best = Nf4Code.value(c);
        return best;
    }

    @ParameterizedTest
    @CsvSource({"BF16, 64", "BF16, 320", "BF16, 200", "INT8, 64", "INT8, 320", "INT8, 200", "NF4, 64", "NF4, 320", "NF4, 200"})
    void rowDotsEqualTheDequantisedProduct(WeightFormat format, int cols) {
        assertThat(EngineMemory.VECTOR_API).as("tests run with --add-modules jdk.incubator.vector").isTrue();
        int rows = 9;
        PackedWeight p = pack(format, weights(rows, cols, 3), rows, cols);
        float[] deq = new float[rows * cols];
        p.dequantize(0, rows, FloatBuffer.wrap(deq));
        Random rnd = new Random(cols);
        float[] x = new float[cols];
        for (int i = 0; i < cols; i++) x[i] = (float) rnd.nextGaussian();
        float[] prepared = new float[p.preparedLength()];
        p.prepare(x, prepared);
        for (int r = 0; r < rows; r++) {
            double expected = 0;
            double magnitude = 0;
            for (int i = 0; i < cols; i++) {
                expected += (double) deq[r * cols + i] * x[i];
                magnitude += Math.abs((double) deq[r * cols + i] * x[i]);
            }
            assertThat((double) p.dot(r, prepared)).as("%s row %d", format, r).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-5 * magnitude + 1e-7));
        }
    }

    /** The loop AVX2 machines run (8 lanes) gives the sums of the one written out for 16 lanes. */
    @org.junit.jupiter.api.Test
    void theNarrowNf4LoopGivesTheWideLoopsSums() {
        Random rnd = new Random(11);
        int groups = 5;
        byte[] codes = new byte[groups * 32];
        rnd.nextBytes(codes);
        float[] scales = new float[groups];
        float[] x = new float[groups * 64];
        for (int i = 0; i < scales.length; i++) scales[i] = rnd.nextFloat();
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        assertThat(PackedKernels.nf4Narrow(codes, 0, scales, 0, x, groups))
                .isCloseTo(PackedKernels.nf4(codes, 0, scales, 0, x, groups), org.assertj.core.data.Offset.offset(1e-4f));
    }

    @ParameterizedTest
    @EnumSource(value = WeightFormat.class, names = {"BF16", "INT8", "NF4"})
    void rowsSpanningSlabsReadAsInOneSlab(WeightFormat format) {
        int rows = 11;
        int cols = 136;
        float[] w = weights(rows, cols, 8);
        ByteBuffer src = ByteBuffer.allocate(4 * w.length).order(ByteOrder.LITTLE_ENDIAN);
        src.asFloatBuffer().put(w);
        PackedWeight one = pack(format, w, rows, cols);
        PackedWeight slabs = PackedWeight.allocate(format, rows, cols, 4);
        for (int r = 0; r < rows; r++) slabs.packRow(r, src, 4 * r * cols, Dtype.F32, new float[cols]);
        float[] a = new float[rows * cols];
        float[] b = new float[rows * cols];
        one.dequantize(0, rows, FloatBuffer.wrap(a));
        slabs.dequantize(0, rows, FloatBuffer.wrap(b));
        assertThat(b).containsExactly(a);
        float[] x = new float[one.preparedLength()];
        one.prepare(weights(1, cols, 9), x);
        for (int r = 0; r < rows; r++) assertThat(slabs.dot(r, x)).as("row %d", r).isEqualTo(one.dot(r, x));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> slabs.dot(rows, x)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @ParameterizedTest
    @EnumSource(value = WeightFormat.class, names = {"BF16", "INT8", "NF4"})
    void aValueThatIsNotFiniteIsReportedWithItsColumn(WeightFormat format) {
        float[] w = weights(1, 100, 1);
        w[37] = Float.NaN;
        ByteBuffer src = ByteBuffer.allocate(400).order(ByteOrder.LITTLE_ENDIAN);
        src.asFloatBuffer().put(w);
        assertThat(PackedWeight.allocate(format, 1, 100).packRow(0, src, 0, Dtype.F32, new float[100])).isEqualTo(37);
        ByteBuffer bf16 = ByteBuffer.allocate(200).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 100; i++) bf16.putShort(2 * i, HalfFloats.floatToBf16(i == 81 ? Float.NEGATIVE_INFINITY : w[i == 37 ? 0 : i]));
        assertThat(PackedWeight.allocate(format, 1, 100).packRow(0, bf16, 0, Dtype.BF16, new float[100])).isEqualTo(81);
    }

    @ParameterizedTest
    @CsvSource({"BF16, 2.0", "INT8, 1.0", "NF4, 0.5"})
    void bytesPerWeightAreTheFormatsWithScales(WeightFormat format, double payloadBytes) {
        PackedWeight p = PackedWeight.allocate(format, 10, 4096);
        assertThat((double) p.bytes() / (10 * 4096)).isEqualTo(format.bitsPerWeight() / 8);
        assertThat(format.bitsPerWeight() / 8).isGreaterThanOrEqualTo(payloadBytes);
    }
}
