package dev.finadvisor.llm.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.finadvisor.llm.quant.Nf4;
import dev.finadvisor.llm.quant.Nf4Linear;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import dev.finadvisor.llm.model.DenseLinear;
import dev.finadvisor.llm.model.Linear;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LoraLinearTest {
    private static final int IN = 12;
    private static final int OUT = 10;
    private static final int R = 3;
    private NDManager m;
    private final long seed = System.nanoTime();
    private final SplittableRandom random = new SplittableRandom(seed);

    @BeforeEach
    void start() {
        m = NDManager.newBaseManager();
    }

    @AfterEach
    void stop() {
        m.close();
    }

    private NDArray gaussian(DataType type, long... shape) {
        double[] v = new double[(int) new Shape(shape).size()];
        for (int i = 0; i < v.length; i++) v[i] = random.nextGaussian();
        return m.create(v, new Shape(shape)).toType(type, false);
    }

    private static Linear dense(NDArray weight, NDArray bias) {
        return new DenseLinear(weight, bias);
    }

    @Test
    void startsAsTheBaseLayerWithPeftInitialisation() {
        NDArray w = gaussian(DataType.FLOAT32, OUT, IN);
        NDArray bias = gaussian(DataType.FLOAT32, OUT);
        try (LoraLinear lora = new LoraLinear(dense(w, bias), 64, 0.25, 0.0, 1, m, DataType.FLOAT32)) {
            NDArray x = gaussian(DataType.FLOAT32, 2, 5, IN);
            assertThat(lora.apply(x).toFloatArray()).containsExactly(dense(w, bias).apply(x).toFloatArray());
            assertThat(lora.b().toFloatArray()).containsOnly(0f);
            float[] a = lora.a().toFloatArray();
            double bound = 1 / Math.sqrt(IN);
            double max = 0;
            for (float v : a) max = Math.max(max, Math.abs(v));
            assertThat(max).isLessThanOrEqualTo(bound).isGreaterThan(0.8 * bound); // uniform(-1/sqrt(in), 1/sqrt(in))
        }
    }

    /** L = sum(lora(x) * R): dL/dtheta by autograd against central differences, all in float64. */
    private void checkGradients(Linear base, double dropout) {
        try (LoraLinear lora = new LoraLinear(base, R, 2.0 / R, dropout, seed, m, DataType.FLOAT64)) {
            // B = 0 would make dL/dA vanish: give B values so both factors are checked
            lora.b().set(gaussian(DataType.FLOAT64, OUT, R).toByteBuffer());
            NDArray x = gaussian(DataType.FLOAT64, 2, 4, IN);
            x.setRequiresGradient(true);
            NDArray weights = gaussian(DataType.FLOAT64, 2, 4, OUT);
            int dropoutSeed = random.nextInt(1 << 30);
            Loss loss = () -> {
                lora.seedDropout(dropoutSeed); // the same dropout mask every evaluation
                try (NDManager scope = m.newSubManager()) {
                    NDArray y = lora.apply(x);
                    y.attach(scope);
                    return y.mul(weights).sum().getDouble();
                }
            };
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                lora.seedDropout(dropoutSeed);
                gc.backward(lora.apply(x).mul(weights).sum());
            }
            for (NDArray p : new NDArray[] {lora.a(), lora.b(), x}) {
                try (NDArray g = p.getGradient()) {
                    double[] analytic = g.toDoubleArray();
                    double[] values = p.toDoubleArray();
                    for (int i = 0; i < values.length; i += 3) {
                        double h = 1e-6;
                        double[] plus = values.clone();
                        plus[i] += h;
                        p.set(plus);
                        double up = loss.value();
                        double[] minus = values.clone();
                        minus[i] -= h;
                        p.set(minus);
                        double down = loss.value();
                        p.set(values);
                        double numeric = (up - down) / (2 * h);
                        // float64 central differences: truncation O(h^2) is 0 for this bilinear map, rounding ~1e-10
                        assertThat(analytic[i]).as("seed %d, %s[%d]", seed, p.getShape(), i)
                                .isCloseTo(numeric, within(1e-7 * Math.max(1, Math.abs(numeric))));
                    }
                }
            }
        }
    }

    interface Loss {
        double value();
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        checkGradients(dense(gaussian(DataType.FLOAT64, OUT, IN), gaussian(DataType.FLOAT64, OUT)), 0.0);
    }

    @Test
    void gradientsMatchFiniteDifferencesThroughDropoutWithAFixedMask() {
        checkGradients(dense(gaussian(DataType.FLOAT64, OUT, IN), gaussian(DataType.FLOAT64, OUT)), 0.3);
    }

    @Test
    void gradientsMatchFiniteDifferencesOnAnNf4Base() {
        try (Nf4 nf4 = new Nf4(m)) {
            Nf4Linear base = new Nf4Linear(nf4.quantize(gaussian(DataType.FLOAT32, OUT, IN)), null);
            checkGradients(base, 0.0);
        }
    }

    @Test
    void baseWeightsGetNoGradientAndLoraFactorsDo() {
        NDArray w = gaussian(DataType.FLOAT32, OUT, IN);
        NDArray bias = gaussian(DataType.FLOAT32, OUT);
        try (LoraLinear lora = new LoraLinear(dense(w, bias), R, 1.0, 0.1, 3, m, DataType.FLOAT32);
             GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(lora.apply(gaussian(DataType.FLOAT32, 3, IN)).sum());
            assertThat(w.hasGradient()).isFalse();
            assertThat(bias.hasGradient()).isFalse();
            try (NDArray gb = lora.b().getGradient()) {
                assertThat(gb.abs().sum().getFloat()).isGreaterThan(0f);
            }
        }
    }

    @Test
    void dropoutActsOnlyInTraining() {
        NDArray w = gaussian(DataType.FLOAT32, OUT, IN);
        try (LoraLinear lora = new LoraLinear(dense(w, m.zeros(new Shape(OUT))), R, 1.0, 0.5, 3, m, DataType.FLOAT32)) {
            lora.b().set(gaussian(DataType.FLOAT32, OUT, R).toByteBuffer());
            NDArray x = gaussian(DataType.FLOAT32, 4, IN);
            lora.setTraining(false);
            float[] first = lora.apply(x).toFloatArray();
            assertThat(lora.apply(x).toFloatArray()).containsExactly(first);
            lora.setTraining(true);
            assertThat(lora.apply(x).toFloatArray()).isNotEqualTo(first);
        }
    }

    @Test
    void dropoutMasksKeepOneMinusPScaledAndAreFunctionsOfTheSeed() {
        double p = 0.3;
        int rows = 700;
        NDArray ones = m.ones(new Shape(rows, 300));
        float[] mask = DropoutMask.draw(ones, p, 11).toFloatArray();
        float kept = 1f / 0.7f;
        int zeros = 0;
        for (float v : mask) {
            if (v == 0f) zeros++;
            else assertThat(v).isEqualTo(kept);
        }
        // binomial(n, 0.3): five standard deviations either side
        double n = mask.length;
        assertThat((double) zeros).isCloseTo(n * p, within(5 * Math.sqrt(n * p * (1 - p))));
        // element i is a function of (seed, i) alone: the SIMD loop, its scalar tail (7 elements here) and the
        // scalar hash agree, and a longer mask of the same seed starts with the shorter one
        float[] odd = DropoutMask.draw(m.ones(new Shape(rows * 300 + 7)), p, 11).toFloatArray();
        long key = DropoutMask.mix(11, 0);
        for (int i = 0; i < odd.length; i++) {
            boolean dropped = (DropoutMask.bits(i, (int) key, (int) (key >>> 32)) & 0xFFFFFFFFL) < Math.round(p * 4294967296.0);
            assertThat(odd[i]).as("element %d", i).isEqualTo(dropped ? 0f : kept);
        }
        assertThat(Arrays.copyOf(odd, mask.length)).containsExactly(mask);
        assertThat(DropoutMask.draw(ones, p, 11).toFloatArray()).containsExactly(mask);
        assertThat(DropoutMask.draw(ones, p, 12).toFloatArray()).isNotEqualTo(mask);
        NDArray wide = m.ones(new Shape(2, 3)).toType(DataType.FLOAT64, false);
        assertThat(DropoutMask.draw(wide, p, 11).getDataType()).isEqualTo(DataType.FLOAT64);
    }

    @Test
    void seedingDropoutRepeatsTheMasksOfAStep() {
        NDArray w = gaussian(DataType.FLOAT32, OUT, IN);
        try (LoraLinear lora = new LoraLinear(dense(w, null), R, 1.0, 0.5, 3, m, DataType.FLOAT32)) {
            lora.b().set(gaussian(DataType.FLOAT32, OUT, R).toByteBuffer());
            NDArray x = gaussian(DataType.FLOAT32, 4, IN);
            lora.seedDropout(7);
            float[] first = lora.apply(x).toFloatArray();
            float[] second = lora.apply(x).toFloatArray(); // a second micro-batch of the step: a new mask
            assertThat(second).isNotEqualTo(first);
            lora.seedDropout(7);
            assertThat(lora.apply(x).toFloatArray()).containsExactly(first);
            assertThat(lora.apply(x).toFloatArray()).containsExactly(second);
            lora.seedDropout(8);
            assertThat(lora.apply(x).toFloatArray()).isNotEqualTo(first);
        }
    }

    @Test
    void layersOfOneStepDrawDifferentMasks() {
        Linear base = dense(gaussian(DataType.FLOAT32, OUT, IN), null);
        LoraConfig config = new LoraConfig(R, R, 0.5, List.of("q", "k"), "tiny", null);
        try (LoraLayers layers = LoraLayers.create(config, Map.of("layers.0.q", base, "layers.0.k", base), 1, m)) {
            LoraLinear q = layers.layers().get("layers.0.q");
            LoraLinear k = layers.layers().get("layers.0.k");
            q.b().set(gaussian(DataType.FLOAT32, OUT, R).toByteBuffer());
            k.load(q.weights()); // the same function: outputs differ only by their masks
            NDArray x = gaussian(DataType.FLOAT32, 4, IN);
            layers.seedDropout(5);
            assertThat(k.apply(x).toFloatArray()).isNotEqualTo(q.apply(x).toFloatArray());
            layers.setTraining(false);
            assertThat(k.apply(x).toFloatArray()).containsExactly(q.apply(x).toFloatArray());
        }
    }

    @Test
    void weightsRoundTripThroughLoraWeights() {
        NDArray w = gaussian(DataType.FLOAT32, OUT, IN);
        Linear base = dense(w, m.zeros(new Shape(OUT)));
        try (LoraLinear one = new LoraLinear(base, R, 1.0, 0, 1, m, DataType.FLOAT32);
             LoraLinear two = new LoraLinear(base, R, 1.0, 0, 2, m, DataType.FLOAT32)) {
            one.b().set(gaussian(DataType.FLOAT32, OUT, R).toByteBuffer());
            two.load(one.weights());
            NDArray x = gaussian(DataType.FLOAT32, 2, IN);
            assertThat(two.apply(x).toFloatArray()).containsExactly(one.apply(x).toFloatArray());
            // and the merged dense weight W + scale B A gives the same function (to fp32 rounding)
            float[] delta = one.weights().delta(one.scale());
            NDArray merged = w.add(m.create(delta, new Shape(OUT, IN)));
            float[] viaMerge = x.matMul(merged.transpose()).toFloatArray();
            float[] viaLora = one.apply(x).toFloatArray();
            for (int i = 0; i < viaLora.length; i++) assertThat(viaMerge[i]).isCloseTo(viaLora[i], within(1e-4f));
        }
    }
}
