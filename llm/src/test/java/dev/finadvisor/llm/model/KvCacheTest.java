package dev.finadvisor.llm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.RandomCheckpoint;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KvCacheTest {
    @TempDir
    Path dir;

    @org.junit.jupiter.api.Test
    void aClosedCacheRefusesUseAndALayerOver2GiBDecodesOnTheEngine() throws Exception {
        Path ckpt = RandomCheckpoint.tiny("llama").write(dir.resolve("closed"));
        try (NDManager root = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, root)) {
            KvCache cache = model.newCache(1, 16);
            assertThat(cache.javaAddressable()).isTrue();
            assertThat(cache.buffer(0, false)).isNotNull();
            cache.close();
            assertThatThrownBy(() -> cache.buffer(0, false)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
            assertThatThrownBy(() -> model.decode(1, cache)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        }
        // 32 kv heads x 128 dims x 131,072 positions x 4 bytes = 2^31 bytes: one over what a Java buffer addresses
        assertThat(KvCache.layerBytes(1, 32, 131_072, 128)).isGreaterThan(Integer.MAX_VALUE);
        assertThat(KvCache.layerBytes(1, 8, 131_072, 128)).isLessThanOrEqualTo(Integer.MAX_VALUE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "qwen2", "falcon", "falcon-new", "falcon-seq"})
    void cachedPrefillAndDecodeEqualFullRecomputation(String family) throws Exception {
        Path ckpt = RandomCheckpoint.tiny(family).write(dir.resolve(family));
        Random rnd = new Random();
        int total = 10 + rnd.nextInt(20);
        int prefill = 1 + rnd.nextInt(total - 1);
        long[] ids = new long[total];
        for (int i = 0; i < total; i++) ids[i] = rnd.nextInt(384);
        try (NDManager root = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, root)) {
            float[] full;
            try (NDManager scope = root.newSubManager()) {
                full = model.forward(scope.create(ids, new Shape(1, total))).toFloatArray();
            }
            int vocab = model.config().vocabSize();
            try (KvCache cache = model.newCache(1, total)) {
                float[] cached = new float[total * vocab];
                try (NDManager scope = root.newSubManager()) {
                    long[] first = java.util.Arrays.copyOf(ids, prefill);
                    float[] p = model.forward(scope.create(first, new Shape(1, prefill)), cache, false).toFloatArray();
                    System.arraycopy(p, 0, cached, 0, p.length);
                }
                for (int pos = prefill; pos < total; pos++) {
                    try (NDManager scope = root.newSubManager()) {
                        NDArray out = model.forward(scope.create(new long[] {ids[pos]}, new Shape(1, 1)), cache, true);
                        System.arraycopy(out.toFloatArray(), 0, cached, pos * vocab, vocab);
                    }
                }
                assertThat(cache.length()).isEqualTo(total);
                assertThat(GoldenLogitsTest.maxAbsDiff(cached, full)).as("prefill %d of %d", prefill, total).isLessThan(1e-5f);
                try (NDManager scope = root.newSubManager()) {
                    assertThatThrownBy(() -> model.forward(scope.create(new long[] {1}, new Shape(1, 1)), cache, true))
                            .isInstanceOf(UserError.class).hasMessageContaining("cache holds " + total);
                }
            }
        }
    }
}
