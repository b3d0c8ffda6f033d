package dev.finadvisor.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.finadvisor.llm.LoraGradients;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.lora.LoraConfig;
import dev.finadvisor.llm.lora.LoraLayers;
import dev.finadvisor.llm.model.CausalLM;
import dev.finadvisor.llm.model.PackedLinear;
import dev.finadvisor.llm.model.TrainingPass;
import dev.finadvisor.llm.quant.Nf4;
import dev.finadvisor.llm.quant.Nf4Quantizer;
import dev.finadvisor.llm.safetensors.Dtype;
import java.io.IOException;
import java.nio.file.Path;
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
                "falcon-seq, true, 0.0", "falcon-qkv, true, 0.1"})
    void gradientsAndLogitsEqualThoseOfOneBackwardThroughTheWholeGraph(String family, boolean nf4, double dropout) throws IOException {
        // falcon-qkv: the course's recipe, LoRA on query_key_value only, so no MLP trains
        boolean qkvOnly = family.equals("falcon-qkv");
        RandomCheckpoint spec = family.equals("llama3layers")
                ? new RandomCheckpoint("LlamaForCausalLM", 64, 96, 3, 4, 2, 384, 256, false, Map.of(), Dtype.F32, 0.08, 11)
                : RandomCheckpoint.tiny(qkvOnly ? "falcon" : family);
        Path ckpt = spec.write(dir.resolve(family));
        try (NDManager manager = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, manager); Nf4 code = new Nf4(manager)) {
            if (nf4) Nf4Quantizer.quantize(model, code);
            List<String> targets = qkvOnly ? List.of("query_key_value") : LoraGradients.allLinears(family);
            LoraLayers lora = LoraLayers.attach(new LoraConfig(4, 8.0, dropout, targets, ckpt.toString(), null), model, 3);
            Random random = new Random(5);
            LoraGradients.randomiseB(lora, random);
            LoraGradients.Batch batch = LoraGradients.Batch.random(random);

            float[][] wholeLogits = new float[1][];
            float[][] checkpointedLogits = new float[1][];
            Map<String, float[]> whole = LoraGradients.gradients(TrainingPass.whole(model), lora, batch, manager, wholeLogits);
            Map<String, float[]> checkpointed = LoraGradients.gradients(new CheckpointedPass(model), lora, batch, manager, checkpointedLogits);
            assertThat(checkpointedLogits[0]).containsExactly(wholeLogits[0]);
            LoraGradients.assertClose(whole, checkpointed, family, 1e-5f);

            // the forward recorded no decoder layer: the hidden state it keeps for the last one is part of no graph
            try (NDManager step = manager.newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                CheckpointedPass pass = new CheckpointedPass(model);
                pass.forward(step.create(batch.ids(), new Shape(2, 9)));
                List<NDArray> saved = pass.savedInputs();
                assertThat(saved).hasSize(model.config().numLayers());
                NDArray last = saved.get(saved.size() - 1);
                assertThatThrownBy(() -> TrainingPass.backpropagate(last, last.onesLike())).hasMessageContaining("does not require grad");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"llama3", "llama-bf16-untied"})
    void qloraOnABf16CheckpointKeepsTheEmbeddingAndHeadInBf16WithTheGradientsOfFp32Ones(String family) throws IOException {
        RandomCheckpoint spec = family.equals("llama3") ? RandomCheckpoint.tiny("llama3") // tied
                : new RandomCheckpoint("LlamaForCausalLM", 64, 96, 2, 4, 2, 384, 256, false, Map.of(), Dtype.BF16, 0.08, 12);
        Path ckpt = spec.write(dir.resolve(family));
        LoraGradients.Batch batch = LoraGradients.Batch.random(new Random(5));
        Map<String, float[]> expected;
        float[][] expectedLogits = new float[1][];
        try (NDManager manager = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, manager); Nf4 code = new Nf4(manager)) {
            Nf4Quantizer.quantize(model, code); // read into fp32, then quantised: the embedding and head stay fp32 tensors
            expected = LoraGradients.gradients(TrainingPass.whole(model), lora(model, ckpt), batch, manager, expectedLogits);
        }
        try (NDManager manager = NDManager.newBaseManager(); Nf4 code = new Nf4(manager);
             CausalLM model = CausalLM.load(ckpt, manager, Nf4Quantizer.whileLoading(code))) {
            assertThat(model.linears().get("lm_head")).isInstanceOf(PackedLinear.class);
            LoraLayers lora = lora(model, ckpt);
            for (boolean checkpointing : new boolean[] {false, true}) {
                float[][] logits = new float[1][];
                Map<String, float[]> actual = LoraGradients.gradients(checkpointing ? new CheckpointedPass(model) : TrainingPass.whole(model),
                        lora, batch, manager, logits);
                assertThat(logits[0]).containsExactly(expectedLogits[0]);
                LoraGradients.assertClose(expected, actual, family + (checkpointing ? ", checkpointed" : ""), 1e-5f);
            }
        }
    }

    private static LoraLayers lora(CausalLM model, Path ckpt) {
        LoraLayers lora = LoraLayers.attach(new LoraConfig(4, 8.0, 0.0, LoraGradients.allLinears("llama"), ckpt.toString(), null), model, 3);
        LoraGradients.randomiseB(lora, new Random(7));
        return lora;
    }
}
