package dev.finadvisor.llm.quant;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.finadvisor.llm.model.DenseLinear;
import dev.finadvisor.llm.model.Linear;
import dev.finadvisor.llm.model.ProjectionTape;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A graph with the shapes of a decoder layer (a norm feeding two frozen products and a trainable path, one product
 * reading another's output, a residual) gives the same gradients with its NF4 products taped as with the same weights
 * recorded as dense fp32 ones.
 */
class ProjectionTapeTest {
    private static final int IN = 64;
    private static final int MID = 128;

    @Test
    void tapedFrozenProductsGiveTheGradientsOfOneBackwardThroughTheWholeGraph() {
        try (NDManager manager = NDManager.newBaseManager(); Nf4 code = new Nf4(manager)) {
            Random random = new Random(3);
            // up and down by slabs of rows (40 + 40 + 40 + 8 and 24 + 24 + 16), side whole
            Nf4Linear up = new Nf4Linear(code.quantize(gaussian(random, new Shape(MID, IN)), new Shape(MID, IN)), null).slabFloats(40 * IN);
            Nf4Linear down = new Nf4Linear(code.quantize(gaussian(random, new Shape(IN, MID)), new Shape(IN, MID)), null).slabFloats(24 * MID);
            Nf4Linear side = new Nf4Linear(code.quantize(gaussian(random, new Shape(IN, IN)), new Shape(IN, IN)), null);
            try (NDArray upW = up.weight().dequantize(manager); NDArray downW = down.weight().dequantize(manager);
                 NDArray sideW = side.weight().dequantize(manager)) {
                float[] input = gaussian(random, new Shape(2, 5, IN));
                float[] trainable = gaussian(random, new Shape(IN, IN));
                float[] outputGradient = gaussian(random, new Shape(2, 5, IN));

                float[][] reference = gradients(manager, input, trainable, outputGradient,
                        new DenseLinear(upW, null), new DenseLinear(downW, null), new DenseLinear(sideW, null), false);
                float[][] taped = gradients(manager, input, trainable, outputGradient, up, down, side, true);
                for (int i = 0; i < 2; i++) {
                    assertThat(taped[i]).hasSameSizeAs(reference[i]);
                    for (int j = 0; j < reference[i].length; j++) {
                        assertThat(taped[i][j]).as("gradient %d[%d]", i, j).isCloseTo(reference[i][j], org.assertj.core.data.Offset.offset(1e-4f));
                    }
                }
            }
        }
    }

    @Test
    void aProductBySlabsOfRowsEqualsTheProductWithTheWholeWeight() {
        try (NDManager manager = NDManager.newBaseManager(); Nf4 code = new Nf4(manager)) {
            Random random = new Random(4);
            Nf4Tensor weight = code.quantize(gaussian(random, new Shape(MID, IN)), new Shape(MID, IN));
            float[] bias = gaussian(random, new Shape(MID));
            Nf4Linear slabbed = new Nf4Linear(weight, manager.create(bias)).slabFloats(40 * IN);
            try (NDArray w = weight.dequantize(manager); NDArray x = manager.create(gaussian(random, new Shape(3, 7, IN)), new Shape(3, 7, IN));
                 NDArray expected = Linear.project(x, w, manager.create(bias)); NDArray actual = slabbed.apply(x);
                 NDArray dy = manager.create(gaussian(random, new Shape(3, 7, MID)), new Shape(3, 7, MID));
                 NDArray expectedDx = dy.matMul(w); NDArray actualDx = slabbed.inputGradient(dy)) {
                assertThat(actual.getShape()).isEqualTo(new Shape(3, 7, MID));
                assertThat(actual.allClose(expected, 1e-5, 1e-5, false)).isTrue();
                assertThat(actualDx.getShape()).isEqualTo(new Shape(3, 7, IN));
                assertThat(actualDx.allClose(expectedDx, 1e-5, 1e-5, false)).isTrue();
            }
        }
    }

    /** The gradients of the input and of the trainable matrix of {@code out = x + down(gelu(up(n))) + side(n) + n t}, {@code n = x / rms(x)}. */
    private static float[][] gradients(NDManager parent, float[] input, float[] trainable, float[] outputGradient,
                                       Linear up, Linear down, Linear side, boolean taped) {
        try (NDManager m = parent.newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray x = m.create(input, new Shape(2, 5, IN));
            x.setRequiresGradient(true);
            NDArray t = m.create(trainable, new Shape(IN, IN));
            t.setRequiresGradient(true);
            ProjectionTape tape = new ProjectionTape();
            java.util.function.Supplier<NDArray> pass = () -> {
                NDArray n = x.div(x.square().mean(new int[] {-1}, true).add(1e-5f).sqrt());
                NDArray hidden = up.apply(n).getNDArrayInternal().gelu();
                return x.add(down.apply(hidden)).add(side.apply(n)).add(n.matMul(t));
            };
            NDArray out = taped ? tape.record(pass) : pass.get();
            assertThat(tape.taped()).as("frozen products cut").isEqualTo(taped ? 3 : 0);
            NDArray g = m.create(outputGradient, new Shape(2, 5, IN));
            if (taped) tape.backward(out, g);
            else dev.finadvisor.llm.model.TrainingPass.backpropagate(out, g);
            return new float[][] {x.getGradient().toFloatArray(), t.getGradient().toFloatArray()};
        }
    }

    private static float[] gaussian(Random random, Shape shape) {
        float[] v = new float[(int) shape.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) random.nextGaussian() * 0.3f;
        return v;
    }
}
