package dev.finadvisor.training.sft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import dev.finadvisor.llm.lora.LoraConfig;
import dev.finadvisor.llm.lora.LoraLayers;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import dev.finadvisor.llm.model.DenseLinear;
import dev.finadvisor.llm.model.Linear;
import java.util.function.UnaryOperator;

/**
 * A frozen toy language model (embedding, a hidden linear with tanh, an output linear) with LoRA
 * on both linears: enough to exercise the training loop with real autograd in milliseconds.
 */
final class TinyBigramModel implements AutoCloseable {
    static final int VOCAB = 16;
    static final int DIM = 12;
    final NDManager manager;
    final NDArray embedding;
    final NDArray hidden;
    final NDArray head;
    final LoraLayers lora;

    TinyBigramModel(LoraConfig config, long seed) {
        manager = NDManager.newBaseManager();
        SplittableRandom random = new SplittableRandom(99); // the base model is the same for every seed
        embedding = gaussian(random, VOCAB, DIM);
        hidden = gaussian(random, DIM, DIM);
        head = gaussian(random, VOCAB, DIM);
        Map<String, Linear> linears = new LinkedHashMap<>();
        linears.put("model.layers.0.mlp.proj", new DenseLinear(hidden, null));
        linears.put("lm_head", new DenseLinear(head, null));
        lora = LoraLayers.create(config, linears, seed, manager);
    }

    static LoraConfig config(double dropout) {
        return new LoraConfig(4, 8, dropout, List.of("proj", "lm_head"), "tiny", "falcon");
    }

    private NDArray gaussian(SplittableRandom random, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = (float) (random.nextGaussian() / Math.sqrt(cols));
        return manager.create(v, new Shape(rows, cols));
    }

    UnaryOperator<NDArray> forward() {
        return ids -> {
            NDArray x = ids.getNDArrayInternal().embedding(ids, embedding, SparseFormat.DENSE).singletonOrThrow();
            NDArray h = lora.layers().get("model.layers.0.mlp.proj").apply(x).tanh();
            return lora.layers().get("lm_head").apply(h);
        };
    }

    @Override
    public void close() {
        lora.close();
        manager.close();
    }
}
