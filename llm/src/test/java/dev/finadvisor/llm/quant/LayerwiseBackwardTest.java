package dev.finadvisor.llm.quant;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.finadvisor.llm.LoraGradients;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.lora.LoraConfig;
import dev.finadvisor.llm.lora.LoraLayers;
import dev.finadvisor.llm.model.CausalLM;
import dev.finadvisor.llm.model.TrainingPass;
import dev.finadvisor.llm.safetensors.Dtype;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LayerwiseBackwardTest {
    @TempDir
    Path dir;

    private static RandomCheckpoint checkpoint(String family) {
        // three layers for Llama: the forward overwrites the shared buffers twice before backward needs layer 0's
        return family.equals("llama3layers")
                ? new RandomCheckpoint("LlamaForCausalLM", 64, 96, 3, 4, 2, 384, 256, false, Map.of(), Dtype.F32, 0.08, 11)
                : RandomCheckpoint.tiny(family);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3layers", "falcon", "falcon-seq"})
    void loraGradientsEqualThoseOfOneBackwardThroughTheWholeGraph(String family) throws IOException {
        Path ckpt = checkpoint(family).write(dir.resolve(family));
        try (NDManager manager = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, manager);
             Nf4 nf4 = new Nf4(manager)) {
            Nf4Quantizer.Report report = Nf4Quantizer.quantize(model, nf4);
            LoraLayers lora = LoraLayers.attach(new LoraConfig(4, 8.0, 0.0, LoraGradients.allLinears(family), ckpt.toString(), null), model, 3);
            Random random = new Random(5);
            LoraGradients.randomiseB(lora, random);
            LoraGradients.Batch batch = LoraGradients.Batch.random(random);

            Map<String, float[]> whole = LoraGradients.gradients(TrainingPass.whole(model::forward), lora, batch, manager, null);
            try (LayerwiseBackward layerwise = new LayerwiseBackward(model, manager)) {
                float[][] logits = new float[1][];
                Map<String, float[]> byLayer = LoraGradients.gradients(layerwise, lora, batch, manager, logits);
                // one decoder layer's NF4 weights in fp32, not all of them
                int layers = model.config().numLayers();
                assertThat(layerwise.bufferBytes()).isEqualTo(4 * report.parameters() / layers);
                try (NDManager step = manager.newSubManager()) {
                    float[] plain = model.forward(step.create(batch.ids(), new Shape(2, 9))).toFloatArray();
                    assertThat(logits[0]).containsExactly(plain);
                }
                LoraGradients.assertClose(whole, byLayer, family, 1e-5f);
            }
            // and a second step after the layerwise one still matches (buffers released to fresh decoding)
            Map<String, float[]> again = LoraGradients.gradients(TrainingPass.whole(model::forward), lora, batch, manager, null);
            for (String name : whole.keySet()) assertThat(again.get(name)).containsExactly(whole.get(name));
        }
    }
}
