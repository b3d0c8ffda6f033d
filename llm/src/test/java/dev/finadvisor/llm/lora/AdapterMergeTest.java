package dev.finadvisor.llm.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.safetensors.Dtype;
import dev.finadvisor.llm.safetensors.HalfFloats;
import dev.finadvisor.llm.safetensors.SafetensorsFile;
import dev.finadvisor.llm.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdapterMergeTest {
    @TempDir Path dir;
    private final SplittableRandom random = new SplittableRandom();

    private float[] gaussian(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) random.nextGaussian();
        return v;
    }

    /** A two-shard checkpoint: q_proj (fp32) and v_proj (bf16) in one shard, the embedding in another. */
    private Path checkpoint(float[] q, float[] v, float[] embed) throws IOException {
        Path model = Files.createDirectories(dir.resolve("model"));
        new SafetensorsWriter().metadata("format", "pt")
                .addFloats("model.layers.0.self_attn.q_proj.weight", new long[] {6, 8}, q)
                .addFloats("model.layers.0.self_attn.v_proj.weight", new long[] {4, 8}, v, Dtype.BF16)
                .write(model.resolve("model-00001-of-00002.safetensors"));
        new SafetensorsWriter().metadata("format", "pt")
                .addFloats("model.embed_tokens.weight", new long[] {10, 8}, embed)
                .write(model.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(model.resolve("model.safetensors.index.json"), """
                {"metadata": {}, "weight_map": {
                  "model.layers.0.self_attn.q_proj.weight": "model-00001-of-00002.safetensors",
                  "model.layers.0.self_attn.v_proj.weight": "model-00001-of-00002.safetensors",
                  "model.embed_tokens.weight": "model-00002-of-00002.safetensors"}}""");
        Files.writeString(model.resolve("config.json"), "{\"model_type\": \"llama\"}");
        Files.writeString(model.resolve("tokenizer.json"), "{}");
        return model;
    }

    @Test
    void mergedModelEqualsBasePlusAdapter() throws IOException {
        float[] q = gaussian(48);
        float[] v = gaussian(32);
        float[] embed = gaussian(80);
        Path model = checkpoint(q, v, embed);
        LoraWeights qa = new LoraWeights(2, 8, 6, gaussian(16), gaussian(12));
        LoraWeights va = new LoraWeights(2, 8, 4, gaussian(16), gaussian(8));
        PeftAdapter adapter = new PeftAdapter(new LoraConfig(2, 6, 0.1, List.of("q_proj", "v_proj"), "base", "falcon"),
                Map.of("model.layers.0.self_attn.q_proj", qa, "model.layers.0.self_attn.v_proj", va));
        Path out = dir.resolve("merged");
        assertThat(AdapterMerge.merge(model, adapter, out)).isEqualTo(2);

        try (SafetensorsFile shard = SafetensorsFile.open(out.resolve("model-00001-of-00002.safetensors"));
             SafetensorsFile other = SafetensorsFile.open(out.resolve("model-00002-of-00002.safetensors"));
             NDManager m = NDManager.newBaseManager()) {
            float[] mergedQ = shard.readFloats("model.layers.0.self_attn.q_proj.weight");
            for (int o = 0; o < 6; o++) {
                for (int i = 0; i < 8; i++) {
                    double d = 0;
                    for (int k = 0; k < 2; k++) d += (double) qa.b()[o * 2 + k] * qa.a()[k * 8 + i];
                    assertThat(mergedQ[o * 8 + i]).isCloseTo((float) (q[o * 8 + i] + 3.0 * d), within(1e-5f));
                }
            }
            assertThat(shard.info("model.layers.0.self_attn.v_proj.weight").dtype()).isEqualTo(Dtype.BF16); // dtype kept
            assertThat(other.readFloats("model.embed_tokens.weight")).containsExactly(embed); // untouched tensors copied
            // the merged dense layer computes what base + LoRA computes
            NDArray w = m.create(q, new Shape(6, 8));
            try (LoraLinear lora = new LoraLinear(new dev.finadvisor.llm.model.DenseLinear(w, null), 2, 3.0, 0.0, 1, m, DataType.FLOAT32)) {
                lora.load(qa);
                NDArray x = m.create(gaussian(24), new Shape(3, 8));
                float[] viaLora = lora.apply(x).toFloatArray();
                float[] viaMerged = x.matMul(m.create(mergedQ, new Shape(6, 8)).transpose()).toFloatArray();
                for (int i = 0; i < viaLora.length; i++) assertThat(viaMerged[i]).isCloseTo(viaLora[i], within(1e-4f));
            }
        }
        assertThat(out.resolve("config.json")).exists();
        assertThat(out.resolve("tokenizer.json")).exists();
        assertThat(out.resolve("model.safetensors.index.json")).exists();
        assertThat(dir.resolve("merged.tmp")).doesNotExist();
    }

    @Test
    void aBf16WeightIsMergedRowBlockByRowBlockAndRoundedOnce() throws IOException {
        float[] q = gaussian(48);
        float[] v = gaussian(32);
        Path model = checkpoint(q, v, gaussian(80));
        LoraWeights va = new LoraWeights(2, 8, 4, gaussian(16), gaussian(8));
        PeftAdapter adapter = new PeftAdapter(new LoraConfig(2, 6, 0.1, List.of("v_proj"), "base", "falcon"),
                Map.of("model.layers.0.self_attn.v_proj", va));
        Path out = dir.resolve("merged");
        assertThat(AdapterMerge.merge(model, adapter, out, 20)).isEqualTo(1); // 20 bytes: one bf16 row of 8 per block

        try (SafetensorsFile shard = SafetensorsFile.open(out.resolve("model-00001-of-00002.safetensors"))) {
            float[] merged = shard.readFloats("model.layers.0.self_attn.v_proj.weight");
            for (int o = 0; o < 4; o++) {
                for (int i = 0; i < 8; i++) {
                    double d = 0;
                    for (int k = 0; k < 2; k++) d += (double) va.b()[o * 2 + k] * va.a()[k * 8 + i];
                    float base = HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(v[o * 8 + i])); // as the checkpoint holds it
                    float expected = HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(base + (float) (d * 3.0)));
                    assertThat(merged[o * 8 + i]).as("row %d column %d", o, i).isEqualTo(expected);
                }
            }
            assertThat(shard.readFloats("model.layers.0.self_attn.q_proj.weight")).containsExactly(q); // not adapted: copied
        }
    }

    @Test
    void anAdapterForAnotherModelIsRefusedBeforeWritingAnything() throws IOException {
        Path model = checkpoint(gaussian(48), gaussian(32), gaussian(80));
        PeftAdapter wrongShape = new PeftAdapter(new LoraConfig(2, 4, 0, List.of("q_proj"), "other", null),
                Map.of("model.layers.0.self_attn.q_proj", new LoraWeights(2, 16, 6, gaussian(32), gaussian(12)),
                        "model.layers.9.self_attn.q_proj", new LoraWeights(2, 8, 6, gaussian(16), gaussian(12))));
        Path out = dir.resolve("merged");
        assertThatThrownBy(() -> AdapterMerge.merge(model, wrongShape, out)).isInstanceOf(UserError.class)
                .hasMessageContaining("[6, 8]").hasMessageContaining("model.layers.9.self_attn.q_proj.weight");
        assertThat(out).doesNotExist();
    }
}
