package dev.finadvisor.llm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.util.Timer;
import dev.finadvisor.llm.lowbit.WeightFormat;
import dev.finadvisor.llm.model.CausalLM;
import dev.finadvisor.llm.model.KvCache;
import dev.finadvisor.llm.model.ModelConfig;
import dev.finadvisor.llm.model.ProjectionLoader;
import dev.finadvisor.llm.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/** A checkpoint loaded for generation: the model (fp32, or packed bf16/int8/NF4, on the CPU), its tokenizer, and the prefill/decode loop. */
public final class LanguageModel implements AutoCloseable {
    private final Path dir;
    private final NDManager manager;
    private final CausalLM model;
    private final Tokenizer tokenizer;

    private LanguageModel(Path dir, NDManager manager, CausalLM model, Tokenizer tokenizer) {
        this.dir = dir;
        this.manager = manager;
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /** Loads a Hugging Face checkpoint folder (config.json, safetensors weights, tokenizer.json). */
    public static LanguageModel load(Path checkpointDir) {
        return load(checkpointDir, ProjectionLoader.DENSE);
    }

    /** The same, each decoder projection made by {@code projections} as it is read (QLoRA: quantised to NF4). */
    public static LanguageModel load(Path checkpointDir, ProjectionLoader projections) {
        return load(checkpointDir, projections, WeightFormat.FP32);
    }

    /** Loads a checkpoint for generation with its projections held as {@code format} (see {@link WeightFormat}). */
    public static LanguageModel load(Path checkpointDir, WeightFormat format) {
        return load(checkpointDir, ProjectionLoader.DENSE, format);
    }

    private static LanguageModel load(Path checkpointDir, ProjectionLoader projections, WeightFormat format) {
        if (!Files.isDirectory(checkpointDir)) throw new UserError(checkpointDir + ": no such checkpoint folder");
        NDManager manager = NDManager.newBaseManager();
        try (Timer t = Timer.log("load " + checkpointDir.getFileName())) {
            Tokenizer tokenizer = Tokenizer.load(checkpointDir);
            CausalLM model = CausalLM.load(checkpointDir, manager, projections, format);
            return new LanguageModel(checkpointDir, manager, model, tokenizer);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    public Path checkpointDir() {
        return dir;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public ModelConfig config() {
        return model.config();
    }

    /** The network itself, for LoRA wrapping and training. */
    public CausalLM model() {
        return model;
    }

    /**
     * Generates after {@code promptIds} (used exactly as given: no BOS is added), calling
     * {@code onToken} per new token, until an end-of-sequence token, a stop string, max_new_tokens or
     * {@code cancelled}. A prompt plus max_new_tokens longer than the model's context is an error.
     */
    public GenerationResult generate(int[] promptIds, GenerationConfig config, TokenListener onToken, BooleanSupplier cancelled) {
        SequenceGeneration s = sequence(promptIds, config, onToken, cancelled);
        try (KvCache cache = model.newCache(1, s.cachePositions())) {
            long t0 = System.nanoTime();
            float[] logits = prefill(promptIds, 0, promptIds.length, cache);
            s.prefilled(System.nanoTime() - t0);
            for (int next; !s.finished() && (next = s.next(logits)) >= 0; ) {
                long t1 = System.nanoTime();
                logits = model.decode(next, cache);
                s.decoded(System.nanoTime() - t1);
            }
        }
        return s.result();
    }

    /** A checked prompt's generation, to be run by {@link #generate} or a {@link BatchedGenerator}. */
    SequenceGeneration sequence(int[] promptIds, GenerationConfig config, TokenListener onToken, BooleanSupplier cancelled) {
        int vocab = model.config().vocabSize();
        int context = model.config().maxPositions();
        if (promptIds.length == 0) throw new UserError("the prompt is empty: give at least one token");
        for (int i = 0; i < promptIds.length; i++) {
            if (promptIds[i] < 0 || promptIds[i] >= vocab) {
                throw new UserError("prompt token " + i + " is id " + promptIds[i] + ", outside the model's vocabulary 0.." + (vocab - 1));
            }
        }
        if ((long) promptIds.length + config.maxNewTokens() > context) {
            throw new UserError("the prompt has " + promptIds.length + " tokens and max_new_tokens is " + config.maxNewTokens()
                    + ": together more than the model's context of " + context + " tokens; shorten the prompt or lower max_new_tokens to at most "
                    + Math.max(0, context - promptIds.length));
        }
        return new SequenceGeneration(promptIds, config, tokenizer, vocab, onToken, cancelled);
    }

    /** Bytes of fp32 keys and values a sequence of {@code positions} holds in its KV cache. */
    public long kvCacheBytes(int positions) {
        return KvCache.bytes(model.config(), positions);
    }

    /**
     * One engine forward pass over prompt positions {@code [from, to)} after those already in {@code cache}, in its own
     * memory scope; returns the last position's logits.
     */
    float[] prefill(int[] ids, int from, int to, KvCache cache) {
        try (NDManager scope = manager.newSubManager()) {
            long[] l = new long[to - from];
            for (int i = from; i < to; i++) l[i - from] = ids[i];
            NDArray input = scope.create(l, new Shape(1, l.length));
            return model.forward(input, cache, true).toFloatArray();
        }
    }

    @Override
    public void close() {
        tokenizer.close();
        manager.close();
    }
}
