package dev.finadvisor.llm.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.finadvisor.llm.RandomCheckpoint;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The full-sequence forward is made of differentiable engine ops: autograd agrees with finite differences. */
class AutogradTest {
    @TempDir
    Path dir;

    /** A linear plus a trainable delta, the shape LoRA takes. */
    record WithDelta(Linear base, NDArray delta) implements Linear {
        @Override
        public NDArray apply(NDArray x) {
            return base.apply(x).add(ai.djl.nn.core.Linear.linear(x, delta, null).singletonOrThrow());
        }

        @Override
        public int inFeatures() {
            return base.inFeatures();
        }

        @Override
        public int outFeatures() {
            return base.outFeatures();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "falcon-new"})
    void gradientsThroughTheForwardMatchFiniteDifferences(String family) throws Exception {
        Path ckpt = RandomCheckpoint.tiny(family).write(dir.resolve(family));
        Random rnd = new Random(11);
        long[] ids = new long[12];
        for (int i = 0; i < ids.length; i++) ids[i] = 5 + rnd.nextInt(370);
        try (NDManager root = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, root)) {
            String path = model.linears().keySet().stream().filter(p -> p.contains(".0.")).findFirst().orElseThrow();
            Linear base = model.linears().get(path);
            NDArray delta = root.randomNormal(0, 0.02f, new Shape(base.outFeatures(), base.inFeatures()), ai.djl.ndarray.types.DataType.FLOAT32);
            delta.setRequiresGradient(true);
            model.replaceLinear(path, new WithDelta(base, delta));
            // loss: a fixed random projection of all logits, so every position and vocabulary entry matters
            NDArray probe = root.randomNormal(new Shape(1, ids.length, model.config().vocabSize()));
            float[] grad;
            try (NDManager scope = root.newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray logits = model.forward(scope.create(ids, new Shape(1, ids.length)));
                gc.backward(logits.mul(probe).sum());
                try (NDArray g = delta.getGradient()) {
                    grad = g.toFloatArray();
                }
            }
            delta.setRequiresGradient(false);
            float[] d = delta.toFloatArray();
            float eps = 1e-2f;
            for (int trial = 0; trial < 4; trial++) {
                int i = rnd.nextInt(d.length);
                float[] plus = d.clone();
                plus[i] += eps;
                float[] minus = d.clone();
                minus[i] -= eps;
                double numeric = (loss(model, root, delta, plus, ids, probe) - loss(model, root, delta, minus, ids, probe)) / (2 * eps);
                assertThat((double) grad[i]).as("%s d loss / d delta[%d]", path, i)
                        .isCloseTo(numeric, org.assertj.core.data.Offset.offset(2e-2 * Math.max(1, Math.abs(numeric))));
            }
        }
    }

    private static double loss(CausalLM model, NDManager root, NDArray delta, float[] values, long[] ids, NDArray probe) {
        delta.set(values);
        try (NDManager scope = root.newSubManager()) {
            return model.forward(scope.create(ids, new Shape(1, ids.length))).mul(probe).sum().getFloat();
        }
    }
}
