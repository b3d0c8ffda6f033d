package dev.finadvisor.llm.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.finadvisor.llm.lowbit.PackedWeight;
import dev.finadvisor.llm.lowbit.WeightFormat;
import dev.finadvisor.llm.safetensors.Dtype;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A packed (bf16) weight a few rows at a time through a small scratch: products and input gradients as the whole weight's. */
class PackedLinearTest {
    private static final int OUT = 50;
    private static final int IN = 32;

    @Test
    void slabsOfAPackedWeightGiveTheWholeWeightsProductsAndInputGradients() {
        Random random = new Random(9);
        PackedWeight weight = PackedWeight.allocate(WeightFormat.BF16, OUT, IN);
        float[] scratch = new float[IN];
        for (int r = 0; r < OUT; r++) {
            ByteBuffer row = ByteBuffer.allocate(4 * IN).order(ByteOrder.LITTLE_ENDIAN);
            for (int c = 0; c < IN; c++) row.putFloat((float) random.nextGaussian());
            assertThat(weight.packRow(r, row, 0, Dtype.F32, scratch)).isEqualTo(-1);
        }
        float[] whole = new float[OUT * IN];
        weight.dequantize(0, OUT, FloatBuffer.wrap(whole));
        try (NDManager manager = NDManager.newBaseManager()) {
            PackedLinear.Scratch small = new PackedLinear.Scratch(manager, 12 * IN); // slabs of 12 rows: 12+12+12+12+2
            PackedLinear linear = new PackedLinear(weight, null, small);
            NDArray w = manager.create(whole, new Shape(OUT, IN));
            NDArray x = manager.randomNormal(new Shape(3, 9, IN));
            NDArray dy = manager.randomNormal(new Shape(3, 9, OUT));
            assertThat(linear.apply(x).allClose(x.matMul(w.transpose()), 1e-5, 1e-5, false)).isTrue();
            assertThat(linear.inputGradient(dy).allClose(dy.matMul(w), 1e-5, 1e-5, false)).isTrue();

            // recorded (a training pass without a tape): autograd through fresh slabs gives x's gradient
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray leaf = x.duplicate();
                leaf.setRequiresGradient(true);
                TrainingPass.backpropagate(linear.apply(leaf), dy);
                assertThat(leaf.getGradient().allClose(dy.matMul(w), 1e-5, 1e-5, false)).isTrue();
            }
        }
    }
}
