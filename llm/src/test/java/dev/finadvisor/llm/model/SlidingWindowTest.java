package dev.finadvisor.llm.model;

import static dev.finadvisor.llm.model.JavaDecodeTest.cachedLogits;
import static dev.finadvisor.llm.model.JavaDecodeTest.fullLogits;
import static dev.finadvisor.llm.model.JavaDecodeTest.randomIds;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.safetensors.Dtype;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mistral's sliding_window (and Qwen2's, on the layers it names) is a window over the keys, not the context length. */
class SlidingWindowTest {
    private static final int VOCAB = 384;

    @TempDir Path dir;

    private Path mistral(String name, int window) throws Exception {
        return new RandomCheckpoint("MistralForCausalLM", 64, 128, 2, 4, 1, VOCAB, 256, false, Map.of("sliding_window", window),
                Dtype.F32, 0.08, 3).write(dir.resolve(name));
    }

    @Test
    void aPromptLongerThanTheWindowRunsAndTheContextIsMaxPositionEmbeddings() throws Exception {
        Path ckpt = mistral("w8", 8);
        try (NDManager root = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, root)) {
            assertThat(model.config().maxPositions()).isEqualTo(256);
            assertThat(model.config().slidingWindow()).isEqualTo(8);
            assertThat(fullLogits(model, root, randomIds(20, VOCAB, 1))).hasSize(20 * VOCAB);
        }
    }

    /** With a window of one, every layer attends a position to itself alone: no other token can reach its logits. */
    @Test
    void aWindowOfOneKeepsEachPositionToItself() throws Exception {
        Path ckpt = mistral("w1", 1);
        long[] ids = randomIds(12, VOCAB, 2);
        long[] other = ids.clone();
        other[0] = (ids[0] + 1) % VOCAB;
        try (NDManager root = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, root)) {
            float[] a = fullLogits(model, root, ids);
            float[] b = fullLogits(model, root, other);
            assertThat(GoldenLogitsTest.maxAbsDiff(Arrays.copyOf(a, VOCAB), Arrays.copyOf(b, VOCAB))).isGreaterThan(1e-3f);
            assertThat(GoldenLogitsTest.maxAbsDiff(Arrays.copyOfRange(a, VOCAB, a.length), Arrays.copyOfRange(b, VOCAB, b.length))).isZero();
        }
    }

    @Test
    void aWindowAsLongAsTheSequenceChangesNothing() throws Exception {
        long[] ids = randomIds(20, VOCAB, 3);
        float[] wide;
        float[] exact;
        try (NDManager root = NDManager.newBaseManager(); CausalLM model = CausalLM.load(mistral("wide", 4096), root)) {
            wide = fullLogits(model, root, ids);
        }
        try (NDManager root = NDManager.newBaseManager(); CausalLM model = CausalLM.load(mistral("exact", 20), root)) {
            exact = fullLogits(model, root, ids);
        }
        assertThat(exact).containsExactly(wide);
    }

    /** The Java decoder, the engine's decode steps and the engine's whole pass agree through the window (Mistral: every layer; Qwen2: layer 1 only). */
    @Test
    void decodeStepsAgreeWithTheWholePassThroughTheWindow() throws Exception {
        Path mistral = mistral("w4", 4);
        Path qwen = new RandomCheckpoint("Qwen2ForCausalLM", 64, 96, 2, 4, 2, VOCAB, 256, true, Map.of("use_sliding_window", true,
                "sliding_window", 4, "max_window_layers", 1), Dtype.F32, 0.08, 4).write(dir.resolve("qwen"));
        long[] ids = randomIds(20, VOCAB, 4);
        for (Path ckpt : new Path[] {mistral, qwen}) {
            try (NDManager root = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, root)) {
                assertThat(model.config().windowed(0)).isEqualTo(ckpt == mistral);
                assertThat(model.config().windowed(1)).isTrue();
                float[] whole = fullLogits(model, root, ids);
                assertThat(GoldenLogitsTest.maxAbsDiff(cachedLogits(model, root, ids, 7), whole)).as("%s, Java decode", ckpt).isLessThan(2e-5f);
            }
            System.setProperty("finadvisor.decode", "engine");
            try (NDManager root = NDManager.newBaseManager(); CausalLM model = CausalLM.load(ckpt, root)) {
                float[] whole = fullLogits(model, root, ids);
                assertThat(GoldenLogitsTest.maxAbsDiff(cachedLogits(model, root, ids, 7), whole)).as("%s, engine decode", ckpt).isLessThan(2e-5f);
            } finally {
                System.clearProperty("finadvisor.decode");
            }
        }
    }
}
