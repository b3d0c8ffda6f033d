package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import dev.finadvisor.domain.UserError;

/**
 * One forward pass of a decoder model over {@code inputIds} after what {@code cache} holds (null: nothing):
 * the rotary tables and causal mask its layers share, and its stages; {@link #run} is the whole pass.
 */
abstract class DecoderPass implements CausalLM.Stages {
    final NDArray inputIds;
    final NDManager scope;
    final KvCache cache;
    final int b;
    final int s;
    final Rotary.Tables rope;
    /** The rotation of the queries, the attention scale folded in. */
    final Rotary.Tables queryRope;
    /** Causal masks of the full layers and of the windowed ones; null where a query may see every cached key. */
    private final NDArray mask;
    private final NDArray windowMask;
    private final ModelConfig config;
    private final Linears linears;
    private final TokenEmbedding embeddings;

    DecoderPass(ModelConfig config, Linears linears, TokenEmbedding embeddings, Rotary rotary, NDArray scale, NDArray inputIds, KvCache cache) {
        this.config = config;
        this.linears = linears;
        this.embeddings = embeddings;
        this.inputIds = inputIds;
        this.scope = inputIds.getManager();
        this.cache = cache;
        b = (int) inputIds.getShape().get(0);
        s = (int) inputIds.getShape().get(1);
        int past = cache == null ? 0 : cache.length();
        if (past + s > config.maxPositions()) {
            throw new UserError("sequence of " + (past + s) + " tokens exceeds the model's context of " + config.maxPositions());
        }
        if (cache != null) cache.checkRoom(s);
        rope = rotary.at(scope, past, s);
        queryRope = rope.scaled(scale);
        mask = s > 1 ? Attention.causalMask(scope, s, past, 0) : null;
        boolean windowBites = config.slidingWindow() > 0 && past + s > config.slidingWindow();
        windowMask = windowBites ? Attention.causalMask(scope, s, past, config.slidingWindow()) : mask;
    }

    @Override
    public NDArray run(CausalLM.LayerEntry entry, boolean lastPositionOnly, NDArray rows) {
        NDArray x = embed();
        for (int i = 0; i < config.numLayers(); i++) {
            if (recorded()) { // backward needs every layer's intermediates
                x = layer(i, entry.enter(i, x));
                continue;
            }
            // generation records no gradient: each layer's intermediates are freed with it (a 7B model's prefill of
            // 700 tokens otherwise held every layer's attention scores, 20 GB)
            try (NDManager layerScope = scope.newSubManager()) {
                x.attach(layerScope);
                x = layer(i, entry.enter(i, x));
                x.attach(scope);
            }
        }
        if (cache != null) cache.advance(s);
        return head(x, lastPositionOnly, rows);
    }

    @Override
    public NDArray embed() {
        return embeddings.embed(inputIds);
    }

    @Override
    public NDArray head(NDArray hidden, NDArray rows) {
        return head(hidden, false, rows);
    }

    private NDArray head(NDArray x, boolean lastPositionOnly, NDArray rows) {
        x = finalNorm(x);
        if (lastPositionOnly) x = x.get(":, -1:, :");
        else if (rows != null) x = x.reshape(-1, config.hiddenSize()).get(rows);
        return linears.get("lm_head").apply(x);
    }

    /**
     * Whether autograd records this pass for a backward (a training step's; not generation, evaluation or a checkpointed
     * forward). Asked per layer: a checkpointed pass runs the same stages unrecorded forward, then recorded in backward.
     */
    boolean recorded() {
        return JniUtils.isGradMode();
    }

    /** The attention mask of decoder layer {@code i}. */
    NDArray mask(int i) {
        return config.windowed(i) ? windowMask : mask;
    }

    /** The model's norm after the last decoder layer. */
    abstract NDArray finalNorm(NDArray x);
}
