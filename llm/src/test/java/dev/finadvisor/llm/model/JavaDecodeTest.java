package dev.finadvisor.llm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.lora.LoraLinear;
import dev.finadvisor.llm.lora.LoraWeights;
import dev.finadvisor.llm.quant.Nf4;
import dev.finadvisor.llm.quant.Nf4Quantizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JavaDecodeTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama3", "mistral", "qwen2", "falcon", "falcon-new", "falcon-seq"})
    void javaDecodeStepsEqualTheEnginesFullRecomputation(String family) throws Exception {
        assertThat(dev.finadvisor.llm.EngineMemory.VECTOR_API).as("tests run with --add-modules jdk.incubator.vector (surefire argLine)").isTrue();
        Path ckpt = RandomCheckpoint.tiny(family).write(dir.resolve(family));
        long[] ids = randomIds(40, 384, family.hashCode());
        int prefill = 7;
        try (NDManager root = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, root)) {
            Object decoder = model instanceof LlamaModel llama ? llama.decoder() : ((FalconModel) model).decoder();
            assertThat(decoder).as("plain fp32 weights decode in Java").isNotNull();
            float[] full = fullLogits(model, root, ids);
            float[] decoded = cachedLogits(model, root, ids, prefill);
            int vocab = model.config().vocabSize();
            for (int pos = prefill; pos < ids.length; pos++) {
                float[] expected = Arrays.copyOfRange(full, pos * vocab, (pos + 1) * vocab);
                float[] actual = Arrays.copyOfRange(decoded, pos * vocab, (pos + 1) * vocab);
                assertThat(GoldenLogitsTest.maxAbsDiff(actual, expected)).as("%s position %d", family, pos).isLessThan(2e-5f);
            }
        }
    }

    @Test
    void moreThreadsGiveBitIdenticalLogits() throws Exception {
        Path ckpt = RandomCheckpoint.tiny("llama").write(dir.resolve("llama"));
        long[] ids = randomIds(24, 384, 5);
        float[] one = withThreads("1", () -> decodeAll(ckpt, ids));
        float[] three = withThreads("3", () -> decodeAll(ckpt, ids));
        assertThat(three).containsExactly(one);
    }

    /**
     * Continuous batching: sequences at different positions decoded together, joining and leaving the batch, get
     * exactly the logits each gets decoded alone.
     */
    @ParameterizedTest
    @ValueSource(strings = {"llama:fp32", "mistral:fp32", "qwen2:bf16", "falcon:nf4", "falcon-new:int8", "falcon-seq:fp32"})
    void aBatchOfSequencesDecodesExactlyAsEachAlone(String familyAndFormat) throws Exception {
        String family = familyAndFormat.split(":")[0];
        dev.finadvisor.llm.lowbit.WeightFormat format = dev.finadvisor.llm.lowbit.WeightFormat.parse(familyAndFormat.split(":")[1], "format");
        Path ckpt = RandomCheckpoint.tiny(family).write(dir.resolve(family));
        int[] prompts = {3, 11, 6, 4, 9}; // batches of four or more share each load of a row (VectorKernels.dots)
        int steps = 5;
        // which sequences take a step together at each step: they join and leave
        int[][] batches = {{0, 1}, {0, 1, 2, 3, 4}, {2, 0}, {1}, {1, 2, 0}, {4, 3, 2, 1, 0}, {0, 2}, {2, 1, 3}, {0, 1}, {3, 4},
            {2}, {1}, {2}, {0, 1, 2, 4}, {3, 4}, {3, 4, 0, 1, 2}};
        try (NDManager root = NDManager.newBaseManager();
             CausalLM model = CausalLM.load(ckpt, root, ProjectionLoader.DENSE, format)) {
            assertThat(model instanceof LlamaModel llama ? llama.decoder() : ((FalconModel) model).decoder()).isNotNull();
            long[][] ids = new long[prompts.length][];
            for (int s = 0; s < ids.length; s++) ids[s] = randomIds(prompts[s] + steps, 384, 100 + s);
            float[][][] alone = new float[ids.length][][];
            for (int s = 0; s < ids.length; s++) alone[s] = stepLogits(model, root, ids[s], prompts[s]);

            KvCache[] caches = new KvCache[ids.length];
            int[] next = new int[ids.length];
            float[][][] together = new float[ids.length][steps][];
            try {
                for (int s = 0; s < ids.length; s++) {
                    caches[s] = model.newCache(1, ids[s].length);
                    prefill(model, root, ids[s], prompts[s], caches[s]);
                    next[s] = prompts[s];
                }
                for (int[] scheduled : batches) {
                    int[] batch = Arrays.stream(scheduled).filter(s -> next[s] < ids[s].length).toArray();
                    int[] tokens = new int[batch.length];
                    KvCache[] in = new KvCache[batch.length];
                    for (int b = 0; b < batch.length; b++) {
                        tokens[b] = (int) ids[batch[b]][next[batch[b]]];
                        in[b] = caches[batch[b]];
                    }
                    float[][] logits = model.decode(tokens, in);
                    for (int b = 0; b < batch.length; b++) together[batch[b]][next[batch[b]]++ - prompts[batch[b]]] = logits[b];
                }
            } finally {
                for (KvCache c : caches) if (c != null) c.close();
            }
            for (int s = 0; s < ids.length; s++) {
                assertThat(next[s]).as("sequence %d took every step", s).isEqualTo(ids[s].length);
                for (int t = 0; t < steps; t++) assertThat(together[s][t]).as("sequence %d step %d", s, t).containsExactly(alone[s][t]);
            }
        }
    }

    /**
     * Many adapters on one base: sequences with different adapters (and none) in one batch get exactly the logits each
     * gets alone on a model with only its own adapter applied, engine prefill and Java decode alike.
     */
    @ParameterizedTest
    @ValueSource(strings = {"llama:fp32", "falcon:nf4"})
    void sequencesWithDifferentAdaptersDecodeTogetherAsEachAloneOnItsOwnAdaptedModel(String familyAndFormat) throws Exception {
        String family = familyAndFormat.split(":")[0];
        dev.finadvisor.llm.lowbit.WeightFormat format = dev.finadvisor.llm.lowbit.WeightFormat.parse(familyAndFormat.split(":")[1], "format");
        Path ckpt = RandomCheckpoint.tiny(family).write(dir.resolve(family));
        boolean llama = family.equals("llama");
        int[] adapterOf = {1, 2, 0, 1, 2};
        int prompt = 6;
        int steps = 4;
        try (NDManager root = NDManager.newBaseManager()) {
            CausalLM served = CausalLM.load(ckpt, root, ProjectionLoader.DENSE, format);
            var one = randomAdapter(served, llama ? List.of("q_proj", "v_proj") : List.of("query_key_value"), 1);
            var two = randomAdapter(served, llama ? List.of("v_proj", "down_proj") : List.of("query_key_value", "dense_4h_to_h"), 2);
            dev.finadvisor.llm.lora.LoraLayers.applyAll(List.of(one, two), served);
            CausalLM[] alone = new CausalLM[3];
            for (int a = 0; a < 3; a++) alone[a] = CausalLM.load(ckpt, root, ProjectionLoader.DENSE, format);
            dev.finadvisor.llm.lora.LoraLayers.apply(one, alone[1]);
            dev.finadvisor.llm.lora.LoraLayers.apply(two, alone[2]);
            long[][] ids = new long[adapterOf.length][];
            KvCache[] caches = new KvCache[ids.length];
            for (int s = 0; s < ids.length; s++) {
                ids[s] = randomIds(prompt + steps, 384, 200 + s);
                caches[s] = served.newCache(1, ids[s].length).useAdapter(adapterOf[s]);
                prefill(served, root, ids[s], prompt, caches[s]);
            }
            float[][][] together = new float[ids.length][steps][];
            for (int t = 0; t < steps; t++) {
                int[] tokens = new int[ids.length];
                for (int s = 0; s < ids.length; s++) tokens[s] = (int) ids[s][prompt + t];
                float[][] logits = served.decode(tokens, caches);
                for (int s = 0; s < ids.length; s++) together[s][t] = logits[s];
            }
            for (KvCache c : caches) c.close();
            float[][] base = stepLogits(alone[0], root, ids[2], prompt);
            float[][] withOne = stepLogits(alone[1], root, ids[2], prompt);
            assertThat(GoldenLogitsTest.maxAbsDiff(withOne[0], base[0])).as("the adapter matters").isGreaterThan(1e-3f);
            for (int s = 0; s < ids.length; s++) {
                float[][] want = stepLogits(alone[adapterOf[s]], root, ids[s], prompt);
                for (int t = 0; t < steps; t++) {
                    assertThat(together[s][t]).as("sequence %d (adapter %d) step %d", s, adapterOf[s], t).containsExactly(want[t]);
                }
            }
            served.close();
            for (CausalLM m : alone) m.close();
        }
    }

    /** A random LoRA adapter on the modules named {@code targets} (B non-zero, so it changes the logits). */
    private static dev.finadvisor.llm.lora.PeftAdapter randomAdapter(CausalLM model, List<String> targets, long seed) {
        var config = new dev.finadvisor.llm.lora.LoraConfig(4, 8, 0, targets, false, "tiny", "falcon");
        Random random = new Random(seed);
        java.util.Map<String, LoraWeights> modules = new java.util.LinkedHashMap<>();
        model.linears().forEach((path, linear) -> {
            if (!config.targets(path)) return;
            float[] a = new float[4 * linear.inFeatures()];
            float[] b = new float[linear.outFeatures() * 4];
            for (int i = 0; i < a.length; i++) a[i] = (float) random.nextGaussian() * 0.1f;
            for (int i = 0; i < b.length; i++) b[i] = (float) random.nextGaussian() * 0.1f;
            modules.put(path, new LoraWeights(4, linear.inFeatures(), linear.outFeatures(), a, b));
        });
        return new dev.finadvisor.llm.lora.PeftAdapter(config, modules);
    }

    /** The logits of each decode step after a prefill of {@code prefill} tokens, the sequence alone in its batch. */
    private static float[][] stepLogits(CausalLM model, NDManager root, long[] ids, int prefill) {
        float[][] out = new float[ids.length - prefill][];
        try (KvCache cache = model.newCache(1, ids.length)) {
            prefill(model, root, ids, prefill, cache);
            for (int pos = prefill; pos < ids.length; pos++) out[pos - prefill] = model.decode((int) ids[pos], cache);
        }
        return out;
    }

    private static void prefill(CausalLM model, NDManager root, long[] ids, int prefill, KvCache cache) {
        try (NDManager scope = root.newSubManager()) {
            model.forward(scope.create(Arrays.copyOf(ids, prefill), new Shape(1, prefill)), cache, true);
        }
    }

    @Test
    void loraUpdatesDecodeInJavaAsTheEngineComputesThem() throws Exception {
        Path ckpt = RandomCheckpoint.tiny("qwen2").write(dir.resolve("qwen2"));
        long[] ids = randomIds(20, 384, 9);
        try (NDManager root = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, root)) {
            Random rnd = new Random(3);
            for (String path : List.of("model.layers.0.self_attn.q_proj", "model.layers.1.self_attn.v_proj", "model.layers.1.mlp.down_proj")) {
                LoraLinear lora = new LoraLinear(model.linears().get(path), 4, 2.0, 0.1, 1, root, DataType.FLOAT32);
                float[] a = new float[4 * lora.inFeatures()];
                float[] b = new float[lora.outFeatures() * 4];
                for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextGaussian() * 0.1f;
                for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextGaussian() * 0.1f;
                lora.load(new LoraWeights(4, lora.inFeatures(), lora.outFeatures(), a, b));
                lora.setTraining(false);
                model.replaceLinear(path, lora);
            }
            assertThat(((LlamaModel) model).decoder()).isNotNull();
            float[] full = fullLogits(model, root, ids);
            float[] decoded = cachedLogits(model, root, ids, 5);
            float[] base;
            try (NDManager other = NDManager.newBaseManager(); CausalLM plain = CausalLM.load(ckpt, other)) {
                base = fullLogits(plain, other, ids);
            }
            assertThat(GoldenLogitsTest.maxAbsDiff(full, base)).as("the updates change the logits").isGreaterThan(1e-2f);
            assertThat(GoldenLogitsTest.maxAbsDiff(decoded, full)).isLessThan(2e-5f);
        }
    }

    @Test
    void anNf4BaseFallsBackToTheEngineWithTheSameResult() throws Exception {
        Path ckpt = RandomCheckpoint.tiny("llama").write(dir.resolve("llama"));
        long[] ids = randomIds(20, 384, 9);
        try (NDManager root = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, root); Nf4 nf4 = new Nf4(root)) {
            Nf4Quantizer.quantize(model, nf4);
            assertThat(((LlamaModel) model).decoder()).isNull();
            assertThat(GoldenLogitsTest.maxAbsDiff(cachedLogits(model, root, ids, 5), fullLogits(model, root, ids))).isLessThan(2e-5f);
        }
    }

    @Test
    void decodingPastTheCacheIsAClearError() throws Exception {
        Path ckpt = RandomCheckpoint.tiny("llama").write(dir.resolve("llama"));
        try (NDManager root = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, root);
             KvCache cache = model.newCache(1, 3)) {
            for (int t = 0; t < 3; t++) model.decode(t + 1, cache);
            assertThatThrownBy(() -> model.decode(4, cache)).isInstanceOf(UserError.class).hasMessageContaining("cache holds 3");
            assertThat(cache.length()).isEqualTo(3);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "falcon"})
    void decodingAfterTheModelIsClosedIsAnErrorNotACrash(String family) throws Exception {
        Path ckpt = RandomCheckpoint.tiny(family).write(dir.resolve(family));
        try (NDManager root = NDManager.newBaseManager()) {
            CausalLM model = CausalLM.load(ckpt, root);
            KvCache cache = model.newCache(1, 8);
            model.decode(1, cache);
            model.close();
            assertThatThrownBy(() -> model.decode(2, cache)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        }
    }

    private float[] decodeAll(Path ckpt, long[] ids) {
        try (NDManager root = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, root)) {
            return cachedLogits(model, root, ids, 3);
        }
    }

    private static float[] withThreads(String threads, java.util.function.Supplier<float[]> body) {
        String before = System.getProperty("finadvisor.decode.threads");
        System.setProperty("finadvisor.decode.threads", threads);
        try {
            return body.get();
        } finally {
            if (before == null) System.clearProperty("finadvisor.decode.threads");
            else System.setProperty("finadvisor.decode.threads", before);
        }
    }

    static long[] randomIds(int n, int vocab, long seed) {
        Random rnd = new Random(seed);
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) ids[i] = rnd.nextInt(vocab);
        return ids;
    }

    static float[] fullLogits(CausalLM model, NDManager root, long[] ids) {
        try (NDManager scope = root.newSubManager()) {
            return model.forward(scope.create(ids, new Shape(1, ids.length))).toFloatArray();
        }
    }

    /** Logits of every position: the first {@code prefill} from one engine pass into the cache, the rest from decode steps. */
    static float[] cachedLogits(CausalLM model, NDManager root, long[] ids, int prefill) {
        int vocab = model.config().vocabSize();
        float[] out = new float[ids.length * vocab];
        try (KvCache cache = model.newCache(1, ids.length)) {
            try (NDManager scope = root.newSubManager()) {
                float[] p = model.forward(scope.create(Arrays.copyOf(ids, prefill), new Shape(1, prefill)), cache, false).toFloatArray();
                System.arraycopy(p, 0, out, 0, p.length);
            }
            for (int pos = prefill; pos < ids.length; pos++) {
                System.arraycopy(model.decode((int) ids[pos], cache), 0, out, pos * vocab, vocab);
            }
        }
        return out;
    }
}
