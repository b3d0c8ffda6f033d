package dev.finadvisor.llm.model;

import static dev.finadvisor.llm.model.JavaDecodeTest.cachedLogits;
import static dev.finadvisor.llm.model.JavaDecodeTest.fullLogits;
import static dev.finadvisor.llm.model.JavaDecodeTest.randomIds;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.lowbit.WeightFormat;
import dev.finadvisor.llm.safetensors.Dtype;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LowPrecisionDecodeTest {
    private static final int PREFILL = 7;

    @TempDir
    Path dir;

    private static CausalLM load(Path ckpt, NDManager root, WeightFormat format) {
        return CausalLM.load(ckpt, root, ProjectionLoader.DENSE, format);
    }

    private static Object decoder(CausalLM model) {
        return model instanceof LlamaModel llama ? llama.decoder() : ((FalconModel) model).decoder();
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama3", "mistral", "qwen2", "falcon", "falcon-new", "falcon-seq"})
    void bf16WeightsGiveTheLogitsOfFp32OnTheSameRoundedWeights(String family) throws Exception {
        Path ckpt = RandomCheckpoint.tiny(family).withDtype(Dtype.BF16).write(dir.resolve(family));
        long[] ids = randomIds(30, 384, family.hashCode());
        try (NDManager root = NDManager.newBaseManager();
             CausalLM fp32 = load(ckpt, root, WeightFormat.FP32);
             CausalLM bf16 = load(ckpt, root, WeightFormat.AUTO)) {
            assertThat(bf16.linears().get(bf16 instanceof LlamaModel ? "model.layers.0.mlp.down_proj" : "transformer.h.0.mlp.dense_4h_to_h"))
                    .as("auto keeps a bf16 checkpoint in bf16").isInstanceOf(PackedLinear.class);
            assertThat(bf16.linears().get("lm_head")).as("the head too, tied to the packed embedding or not").isInstanceOf(PackedLinear.class);
            assertThat(bf16.parameters().keySet()).as("no fp32 copy of the embedding").noneMatch(name -> name.contains("embed"));
            assertThat(decoder(bf16)).as("bf16 weights decode in Java").isNotNull();
            float[] expected = cachedLogits(fp32, root, ids, PREFILL);
            float[] actual = cachedLogits(bf16, root, ids, PREFILL);
            assertThat(GoldenLogitsTest.maxAbsDiff(actual, expected)).as(family).isLessThan(5e-5f);
        }
    }

    /**
     * int8 and NF4 change the weights, so the logits move from fp32's, by a bounded amount that shrinks with the bits:
     * on these random 2-layer models, 64 wide, the largest logit error measured 1-3% of the largest logit for int8
     * and 16-36% for NF4 (a wrong nibble order or scale gives over 100%). And the Java decoder's in-register
     * dequantisation gives what the engine computes on the same weights dequantised (the prefill path).
     */
    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama3", "mistral", "qwen2", "falcon", "falcon-new", "falcon-seq"})
    void int8AndNf4LogitsStayWithinTheirBoundsOfFp32(String family) throws Exception {
        Path ckpt = RandomCheckpoint.tiny(family).write(dir.resolve(family));
        long[] ids = randomIds(30, 384, family.hashCode() + 1);
        try (NDManager root = NDManager.newBaseManager(); CausalLM fp32 = load(ckpt, root, WeightFormat.FP32)) {
            float[] reference = fullLogits(fp32, root, ids);
            float range = 0;
            for (float v : reference) range = Math.max(range, Math.abs(v));
            float int8 = relativeError(ckpt, root, WeightFormat.INT8, ids, reference, range);
            float nf4 = relativeError(ckpt, root, WeightFormat.NF4, ids, reference, range);
            assertThat(int8).as("%s int8", family).isGreaterThan(0f).isLessThan(0.04f);
            assertThat(nf4).as("%s NF4", family).isLessThan(0.45f).isGreaterThan(4 * int8);
        }
    }

    private static float relativeError(Path ckpt, NDManager root, WeightFormat format, long[] ids, float[] reference, float range) {
        try (CausalLM packed = load(ckpt, root, format)) {
            assertThat(decoder(packed)).isNotNull();
            float[] engine = fullLogits(packed, root, ids);
            float[] decoded = cachedLogits(packed, root, ids, PREFILL);
            assertThat(GoldenLogitsTest.maxAbsDiff(decoded, engine)).as("%s: Java decode against the engine on the same weights", format)
                    .isLessThan(5e-5f);
            return GoldenLogitsTest.maxAbsDiff(engine, reference) / range;
        }
    }

    @org.junit.jupiter.api.Test
    void aPackedModelRunsInOneScopeAfterAnother() throws Exception {
        // a training run's evaluation opens a scope per batch: the shared dequantisation tensor must outlive each
        Path ckpt = RandomCheckpoint.tiny("llama").withDtype(Dtype.BF16).write(dir.resolve("llama"));
        long[] ids = randomIds(PREFILL, 384, 3);
        try (NDManager root = NDManager.newBaseManager(); CausalLM bf16 = load(ckpt, root, WeightFormat.BF16)) {
            float[] first;
            try (NDScope scope = new NDScope(); NDManager step = root.newSubManager()) {
                first = bf16.forward(step.create(ids, new Shape(1, PREFILL)), null, false).toFloatArray();
            }
            try (NDScope scope = new NDScope(); NDManager step = root.newSubManager()) {
                assertThat(bf16.forward(step.create(ids, new Shape(1, PREFILL)), null, false).toFloatArray()).containsExactly(first);
            }
        }
    }
}
