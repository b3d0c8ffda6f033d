package dev.finadvisor.llm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.finadvisor.llm.LoraGradients;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.lora.LoraConfig;
import dev.finadvisor.llm.lora.LoraLayers;
import dev.finadvisor.llm.quant.LayerwiseBackward;
import dev.finadvisor.llm.quant.Nf4;
import dev.finadvisor.llm.quant.Nf4Quantizer;
import dev.finadvisor.llm.train.GradientClipping;
import dev.finadvisor.llm.train.TokenCrossEntropy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Logits only at the positions a loss counts: the same values and the same LoRA gradients as all logits with a mask. */
class AnswerRowsTest {
    private static final int BATCH = 2;
    private static final int SEQ = 9;
    /** Flat indices into BATCH x SEQ: a few positions of each row, as answer tokens would be. */
    private static final long[] ROWS = {4, 5, 6, 7, 12, 13, 17};

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"llama", "falcon"})
    void logitsAndLoraGradientsEqualThoseOfAllPositionsMasked(String family) throws IOException {
        Path ckpt = RandomCheckpoint.tiny(family).write(dir.resolve(family));
        List<String> targets = family.equals("llama") ? List.of("q_proj", "v_proj", "down_proj") : List.of("query_key_value", "dense_4h_to_h");
        try (NDManager manager = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, manager)) {
            LoraLayers lora = LoraLayers.attach(new LoraConfig(4, 8.0, 0.0, targets, ckpt.toString(), null), model, 3);
            Random random = new Random(9);
            LoraGradients.randomiseB(lora, random);
            long[] ids = new long[BATCH * SEQ];
            long[] next = new long[BATCH * SEQ];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = 3 + random.nextInt(380);
                next[i] = 3 + random.nextInt(380);
            }
            float[] mask = new float[BATCH * SEQ];
            long[] picked = new long[ROWS.length];
            for (int i = 0; i < ROWS.length; i++) {
                mask[(int) ROWS[i]] = 1f;
                picked[i] = next[(int) ROWS[i]];
            }
            int vocab = model.config().vocabSize();

            try (NDManager step = manager.newSubManager()) {
                float[] all = model.forward(step.create(ids, new Shape(BATCH, SEQ))).toFloatArray();
                float[] some = model.forward(step.create(ids, new Shape(BATCH, SEQ)), (layer, hidden) -> hidden, step.create(ROWS)).toFloatArray();
                assertThat(some).hasSize(ROWS.length * vocab);
                for (int r = 0; r < ROWS.length; r++) {
                    for (int v = 0; v < vocab; v++) {
                        float expected = all[(int) ROWS[r] * vocab + v];
                        assertThat(some[r * vocab + v]).as("row %d logit %d", ROWS[r], v).isCloseTo(expected, within(1e-5f * Math.max(1f, Math.abs(expected))));
                    }
                }
            }

            TrainingPass pass = TrainingPass.whole(model);
            Map<String, float[]> masked = gradients(lora, manager, step -> TokenCrossEntropy.sum(
                    pass.forward(step.create(ids, new Shape(BATCH, SEQ))), step.create(next, new Shape(BATCH, SEQ)), step.create(mask, new Shape(BATCH, SEQ))), pass);
            Map<String, float[]> selected = gradients(lora, manager, step -> TokenCrossEntropy.sum(
                    pass.forward(step.create(ids, new Shape(BATCH, SEQ)), step.create(ROWS)), step.create(picked)), pass);
            LoraGradients.assertClose(masked, selected, family, 1e-5f);
        }
    }

    /** QLoRA's pass hands the rows through to the model too. */
    @ParameterizedTest
    @ValueSource(strings = {"llama"})
    void layerwiseBackwardWithRowsMatchesTheWholeGraph(String family) throws IOException {
        Path ckpt = RandomCheckpoint.tiny(family).write(dir.resolve(family));
        try (NDManager manager = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, manager); Nf4 nf4 = new Nf4(manager)) {
            Nf4Quantizer.quantize(model, nf4);
            LoraLayers lora = LoraLayers.attach(new LoraConfig(4, 8.0, 0.0, List.of("q_proj", "o_proj", "up_proj"), ckpt.toString(), null), model, 3);
            Random random = new Random(10);
            LoraGradients.randomiseB(lora, random);
            long[] ids = new long[BATCH * SEQ];
            long[] picked = new long[ROWS.length];
            for (int i = 0; i < ids.length; i++) ids[i] = 3 + random.nextInt(380);
            for (int i = 0; i < picked.length; i++) picked[i] = 3 + random.nextInt(380);
            TrainingPass whole = TrainingPass.whole(model);
            Map<String, float[]> expected = gradients(lora, manager, step -> TokenCrossEntropy.sum(
                    whole.forward(step.create(ids, new Shape(BATCH, SEQ)), step.create(ROWS)), step.create(picked)), whole);
            try (LayerwiseBackward layerwise = new LayerwiseBackward(model, manager)) {
                Map<String, float[]> actual = gradients(lora, manager, step -> TokenCrossEntropy.sum(
                        layerwise.forward(step.create(ids, new Shape(BATCH, SEQ)), step.create(ROWS)), step.create(picked)), layerwise);
                LoraGradients.assertClose(expected, actual, family + " layerwise", 1e-5f);
            }
        }
    }

    private static Map<String, float[]> gradients(LoraLayers lora, NDManager manager, Function<NDManager, NDArray> loss, TrainingPass pass) {
        try (NDManager step = manager.newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray value = loss.apply(step);
            pass.backward(value, value.onesLike());
        }
        Map<String, float[]> grads = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : lora.parameters().entrySet()) {
            try (NDArray g = e.getValue().getGradient()) {
                grads.put(e.getKey(), g.toFloatArray());
            }
        }
        GradientClipping.zeroGradients(lora.parameters().values());
        return grads;
    }
}
