package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.finadvisor.llm.lowbit.MemoryCheck;
import dev.finadvisor.llm.lowbit.Packer;
import dev.finadvisor.llm.lowbit.WeightFormat;
import dev.finadvisor.llm.safetensors.Dtype;
import dev.finadvisor.llm.safetensors.SafetensorsShards;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A decoder-only language model built from engine ops, so DJL autograd can train through
 * {@link #forward(NDArray)}; generation uses the cached {@link #forward(NDArray, KvCache, boolean)}.
 * Every result belongs to the manager of the input ids: open a scope per step.
 */
public sealed interface CausalLM extends AutoCloseable permits LlamaModel, FalconModel {
    /** The decoder layer's number in a module path: its first {@code .N.} ({@code model.layers.3.mlp.up_proj}, {@code transformer.h.3.mlp}). */
    Pattern LAYER_INDEX = Pattern.compile("\\.(\\d+)\\.");

    /** The decoder layer a module path lies in, or -1 outside the layers (the output head). */
    static int layerOf(String path) {
        Matcher m = LAYER_INDEX.matcher(path);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    ModelConfig config();

    /** Logits {@code [batch, seq, vocab]} for token ids {@code [batch, seq]} (int64), no cache; right-pad batches. */
    default NDArray forward(NDArray inputIds) {
        return forward(inputIds, null, false);
    }

    /**
     * {@link #forward(NDArray)} with the hidden state {@code [batch, seq, hidden]} entering each
     * decoder layer passed through {@code entry}, which returns what the layer computes on (the same
     * values: a training pass cuts the autograd graph there, see
     * {@link dev.finadvisor.llm.quant.LayerwiseBackward}).
     */
    default NDArray forward(NDArray inputIds, LayerEntry entry) {
        return forward(inputIds, entry, null);
    }

    /**
     * {@link #forward(NDArray, LayerEntry)} with logits only at {@code rows}: int64 {@code [k]} flat indices into
     * the {@code batch x seq} positions (row-major), giving {@code [k, vocab]}; null gives every position,
     * {@code [batch, seq, vocab]}. Training asks for the positions its loss counts (the answer tokens), so the
     * output head, the widest matrix product of a small model, runs for those alone.
     */
    default NDArray forward(NDArray inputIds, LayerEntry entry, NDArray rows) {
        return stages(inputIds, null).run(entry, false, rows);
    }

    /**
     * The forward pass of {@code inputIds} after what {@code cache} holds (null: nothing) in stages: what every forward
     * runs, and what a training pass that runs the decoder layers one at a time uses (gradient checkpointing:
     * {@code CheckpointedPass}).
     */
    Stages stages(NDArray inputIds, KvCache cache);

    /** One forward pass's stages: the embedding, each decoder layer, the final norm and output head. */
    interface Stages {
        /**
         * The whole pass: the embedding, each decoder layer entered through {@code entry}, the head (at the last position
         * only, or at {@code rows} if not null); appends the new positions to the cache, if any.
         */
        NDArray run(LayerEntry entry, boolean lastPositionOnly, NDArray rows);

        /** The hidden state {@code [batch, seq, hidden]} entering decoder layer 0. */
        NDArray embed();

        /** Decoder layer {@code i} (0-based) on the hidden state entering it: the hidden state leaving it. */
        NDArray layer(int i, NDArray hidden);

        /** Logits from the last layer's hidden state, at {@code rows} as in {@link #forward(NDArray, LayerEntry, NDArray)}. */
        NDArray head(NDArray hidden, NDArray rows);
    }

    /** Sees the hidden state entering decoder layer {@code layer} (0-based) and returns the tensor the layer uses. */
    @FunctionalInterface
    interface LayerEntry {
        NDArray enter(int layer, NDArray hidden);
    }

    /**
     * Runs the new positions {@code inputIds [batch, s]} after those already in {@code cache} (null: none),
     * appends their keys and values, and returns logits for all new positions or only the last one.
     */
    default NDArray forward(NDArray inputIds, KvCache cache, boolean lastPositionOnly) {
        if (cache != null) selectAdapter(cache.adapter());
        return stages(inputIds, cache).run((layer, hidden) -> hidden, lastPositionOnly, null);
    }

    /** Makes every {@link AdapterLinear} apply adapter {@code adapter} (0: the base alone) in engine passes. */
    default void selectAdapter(int adapter) {
        for (Linear l : linears().values()) {
            if (l instanceof AdapterLinear a) a.select(adapter);
        }
    }

    /** Appends {@code token} to the batch-1 {@code cache} and returns the logits for the position after it: one decode step. */
    default float[] decode(int token, KvCache cache) {
        return decode(new int[] {token}, new KvCache[] {cache})[0];
    }

    /**
     * One decode step for each of a batch of sequences, each with its own batch-1 cache: appends {@code tokens[b]} to
     * {@code caches[b]} and returns the logits for the position after it. Models whose projections are fp32 or packed
     * (LoRA updates included) run it in Java SIMD loops that read each weight once for the whole batch (see JavaDecode);
     * otherwise each sequence takes an engine step. A sequence's logits do not depend on the others in its batch.
     */
    default float[][] decode(int[] tokens, KvCache[] caches) {
        float[][] logits = new float[tokens.length][];
        for (int b = 0; b < tokens.length; b++) {
            try (NDManager scope = manager().newSubManager()) {
                NDArray input = scope.create(new long[] {tokens[b]}, new Shape(1, 1));
                logits[b] = forward(input, caches[b], true).toFloatArray();
            }
        }
        return logits;
    }

    /** An empty cache for up to {@code capacity} positions (prompt plus new tokens). */
    KvCache newCache(int batch, int capacity);

    /** Every linear projection by its Hugging Face module path (e.g. {@code model.layers.0.self_attn.q_proj}), in model order. */
    Map<String, Linear> linears();

    /** Replaces the projection at {@code path} (LoRA wrapping, NF4 quantisation); the shape must stay the same. */
    void replaceLinear(String path, Linear replacement);

    /** Every weight tensor by its checkpoint name (linears' as loaded, before any replacement; not the projections a
     * {@link ProjectionLoader} replaced while loading). */
    Map<String, NDArray> parameters();

    /** The manager that owns the weights. */
    NDManager manager();

    /** Loads the checkpoint folder's weights as fp32 into a new sub-manager of {@code parent}. */
    static CausalLM load(Path checkpointDir, NDManager parent) {
        return load(checkpointDir, parent, ProjectionLoader.DENSE);
    }

    /** The same, each decoder projection made by {@code projections} as it is read (e.g. quantised to NF4). */
    static CausalLM load(Path checkpointDir, NDManager parent, ProjectionLoader projections) {
        return load(checkpointDir, parent, projections, WeightFormat.FP32);
    }

    /**
     * Loads the checkpoint with its projections, token embedding and output head held as {@code format}
     * ({@link WeightFormat#AUTO}: the checkpoint's own precision), packed as each is read; norms and biases stay fp32.
     * Refuses, before reading any weight, a model whose weights cannot fit ({@link MemoryCheck}).
     */
    static CausalLM load(Path checkpointDir, NDManager parent, ProjectionLoader projections, WeightFormat format) {
        ModelConfig config = ModelConfig.load(checkpointDir);
        NDManager manager = parent.newSubManager();
        try (SafetensorsShards weights = SafetensorsShards.open(checkpointDir);
             Packer packer = new Packer(Runtime.getRuntime().availableProcessors())) {
            WeightFormat resolved = format.resolve(dominantDtype(weights));
            // a projection loader (QLoRA's NF4) holds the projections in a form of its own: the fp32 estimate would refuse it
            if (projections == ProjectionLoader.DENSE) MemoryCheck.check(checkpointDir, weights, resolved);
            WeightLoader loader = new WeightLoader(checkpointDir, weights, manager, projections, resolved, packer);
            return switch (config.family()) {
                case LLAMA -> new LlamaModel(config, manager, loader);
                case FALCON -> new FalconModel(config, manager, loader);
            };
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** The dtype most of the checkpoint's values are stored in. */
    static Dtype dominantDtype(SafetensorsShards weights) {
        Map<Dtype, Long> values = new EnumMap<>(Dtype.class);
        for (String name : weights.names()) values.merge(weights.info(name).dtype(), weights.info(name).elementCount(), Long::sum);
        return values.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(Dtype.F32);
    }

    @Override
    default void close() {
        manager().close();
    }
}
