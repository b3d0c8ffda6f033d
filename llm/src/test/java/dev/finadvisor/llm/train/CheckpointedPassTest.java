package dev.finadvisor.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.finadvisor.llm.LoraGradients;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.lora.LoraConfig;
import dev.finadvisor.llm.lora.LoraLayers;
import dev.finadvisor.llm.model.CausalLM;
import dev.finadvisor.llm.model.TrainingPass;
import dev.finadvisor.llm.quant.Nf4;
import dev.finadvisor.llm.quant.Nf4Quantizer;
import dev.finadvisor.llm.safetensors.Dtype;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CheckpointedPassTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}, nf4 {1}, dropout {2}")
    @CsvSource({"llama3layers, false, 0.0", "llama3layers, false, 0.2", "llama3layers, true, 0.2", "falcon, false, 0.2",
                "falcon-seq, true, 0.0"})
    void gradientsAndLogitsEqualThoseOfOneBackwardThroughTheWholeGraph(String family, boolean nf4, double dropout) throws IOException {
        RandomCheckpoint spec = family.equals("llama3layers")
                ? new RandomCheckpoint("LlamaForCausalLM", 64, 96, 3, 4, 2, 384, 256, false, Map.of(), Dtype.F32, 0.08, 11)
                : RandomCheckpoint.tiny(family);
        Path ckpt = spec.write(dir.resolve(family));
        try (NDManager manager = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, manager); Nf4 code = new Nf4(manager)) {
            if (nf4) Nf4Quantizer.quantize(model, code);
            List<String> targets = family.startsWith("llama")
                    ? List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
                    : List.of("query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h");
            LoraLayers lora = LoraLayers.attach(new LoraConfig(4, 8.0, dropout, targets, ckpt.toString(), null), model, 3);
            Random random = new Random(5);
            LoraGradients.randomiseB(lora, random);
            long[] ids = new long[2 * 9];
            for (int i = 0; i < ids.length; i++) ids[i] = 3 + random.nextInt(380);
            float[] lossWeights = new float[2 * 9 * 384];
            for (int i = 0; i < lossWeights.length; i++) lossWeights[i] = (float) random.nextGaussian();

            float[][] wholeLogits = new float[1][];
            float[][] checkpointedLogits = new float[1][];
            Map<String, float[]> whole = gradients(TrainingPass.whole(model), lora, ids, lossWeights, manager, wholeLogits);
            Map<String, float[]> checkpointed = gradients(new CheckpointedPass(model), lora, ids, lossWeights, manager, checkpointedLogits);
            assertThat(checkpointedLogits[0]).containsExactly(wholeLogits[0]);
            LoraGradients.assertClose(whole, checkpointed, family, 1e-5f);

            // the forward recorded no decoder layer: the hidden state it keeps for the last one is part of no graph
            try (NDManager step = manager.newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                CheckpointedPass pass = new CheckpointedPass(model);
                pass.forward(step.create(ids, new Shape(2, 9)));
                List<NDArray> saved = pass.savedInputs();
                assertThat(saved).hasSize(model.config().numLayers());
                NDArray last = saved.get(saved.size() - 1);
                assertThatThrownBy(() -> TrainingPass.backpropagate(last, last.onesLike())).hasMessageContaining("does not require grad");
            }
        }
    }

    /** The LoRA gradients of {@code sum(logits * lossWeights)}, each pass drawing the same dropout masks (seeded alike). */
    private static Map<String, float[]> gradients(TrainingPass pass, LoraLayers lora, long[] ids, float[] lossWeights,
                                                  NDManager manager, float[][] logitsOut) {
        lora.seedDropout(99);
        Map<String, float[]> grads = new LinkedHashMap<>();
        try (NDManager step = manager.newSubManager()) {
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray logits = pass.forward(step.create(ids, new Shape(2, 9)));
                logitsOut[0] = logits.toFloatArray();
                pass.backward(logits, step.create(lossWeights, logits.getShape()));
            }
            for (Map.Entry<String, NDArray> p : lora.parameters().entrySet()) {
                grads.put(p.getKey(), p.getValue().getGradient().toType(DataType.FLOAT32, false).toFloatArray());
            }
            GradientClipping.zeroGradients(lora.parameters().values());
        }
        return grads;
    }
}
