package dev.finadvisor.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.GenerationConfig;
import dev.finadvisor.llm.LanguageModel;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.TokenListener;
import dev.finadvisor.llm.lora.LoraConfig;
import dev.finadvisor.llm.lora.LoraLinear;
import dev.finadvisor.llm.lora.LoraWeights;
import dev.finadvisor.llm.lora.PeftAdapter;
import dev.finadvisor.llm.lowbit.WeightFormat;
import dev.finadvisor.llm.model.DenseLinear;
import dev.finadvisor.llm.model.Linear;
import dev.finadvisor.llm.model.LowRankLinear;
import dev.finadvisor.llm.model.PackedLinear;
import dev.finadvisor.llm.safetensors.Dtype;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LanguageModelGeneratorTest {
    @TempDir Path dir;

    static PeftAdapter randomAdapter(LanguageModel model, long seed) {
        return TinyModel.randomAdapter(model, seed);
    }

    @Test
    void mergedAdapterGivesTheLogitsOfTheUnmergedLoraForward() throws Exception {
        Path checkpoint = TinyModel.write(dir.resolve("tiny"));
        try (LanguageModel reference = LanguageModel.load(checkpoint)) {
            PeftAdapter adapter = randomAdapter(reference, 3);
            adapter.write(dir.resolve("adapter"));
            // The reference runs the adapter the way training does: base(x) + scale * B(A(x)), unmerged.
            NDManager manager = reference.model().manager();
            for (Map.Entry<String, LoraWeights> e : adapter.modules().entrySet()) {
                Linear base = reference.model().linears().get(e.getKey());
                LoraLinear lora = new LoraLinear(base, 4, adapter.config().scale(), 0, 1, manager, DataType.FLOAT32);
                lora.load(e.getValue());
                reference.model().replaceLinear(e.getKey(), lora);
            }
            try (LanguageModelGenerator merged = LanguageModelGenerator.load(checkpoint, PeftAdapter.read(dir.resolve("adapter")));
                 LanguageModel plain = LanguageModel.load(checkpoint);
                 NDManager scope = NDManager.newBaseManager()) {
                int[] ids = merged.model().tokenizer().encode("Should I buy index funds or hold cash?", true);
                long[] l = new long[ids.length];
                for (int i = 0; i < ids.length; i++) l[i] = ids[i];
                NDArray input = scope.create(l, new Shape(1, ids.length));
                float[] want = reference.model().forward(input).toFloatArray();
                float[] got = merged.model().model().forward(input).toFloatArray();
                float[] base = plain.model().forward(input).toFloatArray();
                double maxDiff = 0, changed = 0;
                for (int i = 0; i < want.length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[i]));
                    changed = Math.max(changed, Math.abs(want[i] - base[i]));
                }
                assertThat(maxDiff).isLessThan(1e-4);
                assertThat(changed).isGreaterThan(1e-2); // the adapter matters
            }
        }
    }

    @Test
    void onLowPrecisionWeightsTheAdapterStaysUnmergedAndGivesTheMergedModelsTokens() throws Exception {
        Path checkpoint = new RandomCheckpoint("LlamaForCausalLM", 64, 96, 2, 4, 2, 384, 2048, false, Map.of(), Dtype.BF16, 0.08, 11)
                .write(dir.resolve("tiny-bf16"));
        try (LanguageModelGenerator fp32 = LanguageModelGenerator.load(checkpoint, List.of(), WeightFormat.FP32, LanguageModelGenerator.ONE_AT_A_TIME)) {
            randomAdapter(fp32.model(), 5).write(dir.resolve("adapter"));
        }
        PeftAdapter adapter = PeftAdapter.read(dir.resolve("adapter"));
        try (LanguageModelGenerator merged = LanguageModelGenerator.load(checkpoint, List.of(adapter), WeightFormat.FP32, LanguageModelGenerator.ONE_AT_A_TIME);
             LanguageModelGenerator unmerged = LanguageModelGenerator.load(checkpoint, List.of(adapter), WeightFormat.BF16, LanguageModelGenerator.ONE_AT_A_TIME)) {
            String q = "model.layers.0.self_attn.q_proj";
            assertThat(merged.model().model().linears().get(q)).isInstanceOf(DenseLinear.class);
            assertThat(unmerged.model().model().linears().get(q)).isInstanceOf(LowRankLinear.class);
            assertThat(((LowRankLinear) unmerged.model().model().linears().get(q)).base()).isInstanceOf(PackedLinear.class);
            int[] ids = merged.model().tokenizer().encode("Should I buy index funds or hold cash?", true);
            GenerationConfig greedy = GenerationConfig.greedy(24);
            int[] want = merged.model().generate(ids, greedy, TokenListener.NONE, () -> false).generatedIds();
            int[] got = unmerged.model().generate(ids, greedy, TokenListener.NONE, () -> false).generatedIds();
            assertThat(got).containsExactly(want);
        }
    }

    @Test
    void anAdapterForAnotherModelIsRefusedNamingTheModule() throws Exception {
        Path checkpoint = TinyModel.write(dir.resolve("tiny"));
        LoraConfig config = new LoraConfig(2, 4, 0, List.of("q_proj"), "other", "falcon");
        PeftAdapter foreign = new PeftAdapter(config, Map.of("model.layers.7.self_attn.q_proj",
                new LoraWeights(2, 64, 64, new float[128], new float[128])));
        assertThatThrownBy(() -> LanguageModelGenerator.load(checkpoint, foreign))
                .isInstanceOf(UserError.class).hasMessageContaining("model.layers.7.self_attn.q_proj");
    }

    /**
     * Streaming text reaches the client on the request's own thread: a client that stops reading holds up its own
     * answer, not the others decoded beside it; a client whose stream breaks ends its generation.
     */
    @Test
    void aStalledStreamHoldsUpOnlyItsOwnAnswerAndABrokenOneEndsItsGeneration() throws Exception {
        Path checkpoint = TinyModel.write(dir.resolve("tiny"));
        Sampling sampling = new Sampling(24, 0, 0, 1, 1, 1, List.of());
        try (LanguageModelGenerator g = LanguageModelGenerator.load(checkpoint, List.of(), WeightFormat.FP32,
                new dev.finadvisor.llm.BatchedGenerator.Limits(4, 1 << 30, 0))) {
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            var stalled = java.util.concurrent.CompletableFuture.supplyAsync(() -> g.generate("Should I buy bonds?", sampling, delta -> {
                try {
                    release.await(); // the client stops reading
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, () -> false));
            Thread.sleep(200); // its generation is under way
            Generation other = java.util.concurrent.CompletableFuture.supplyAsync(() -> g.generate("Is cash a good hedge?", sampling,
                    TokenSink.NONE, () -> false)).get(20, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(other.completionTokens()).isEqualTo(24);
            assertThat(stalled).isNotDone();
            release.countDown();
            assertThat(stalled.get(20, java.util.concurrent.TimeUnit.SECONDS).completionTokens()).isEqualTo(24);

            var broken = java.util.concurrent.CompletableFuture.supplyAsync(() -> g.generate("Should I buy gold?",
                    new Sampling(200, 0, 0, 1, 1, 1, List.of()), delta -> {
                        throw new IllegalStateException("the client's stream broke");
                    }, () -> false));
            assertThatThrownBy(() -> broken.get(20, java.util.concurrent.TimeUnit.SECONDS)).hasRootCauseMessage("the client's stream broke");
            assertThat(g.batching().running()).as("its generation ended").isZero();
        }
    }
}
