package dev.finadvisor.inference;

import ai.djl.ndarray.NDArray;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.BatchedGenerator;
import dev.finadvisor.llm.GenerationConfig;
import dev.finadvisor.llm.GenerationResult;
import dev.finadvisor.llm.LanguageModel;
import dev.finadvisor.llm.lora.LoraLayers;
import dev.finadvisor.llm.lora.LoraWeights;
import dev.finadvisor.llm.lowbit.WeightFormat;
import dev.finadvisor.llm.lora.PeftAdapter;
import dev.finadvisor.llm.model.DenseLinear;
import dev.finadvisor.llm.model.Linear;
import dev.finadvisor.llm.model.PackedLinear;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The served model: a checkpoint from llm's runtime, its weights held as {@code model.weights} says, with a LoRA
 * adapter folded into fp32 weights ({@code W + scale * B A}, once at load, so serving costs nothing extra per token)
 * or applied beside low-precision ones, unmerged (folding it into 4 or 8 bits would round most of it away). Requests
 * from many threads decode together ({@link BatchedGenerator}: {@code server.max_batch}, {@code server.kv_cache_mb}).
 */
public final class LanguageModelGenerator implements TextGenerator {
    /** One generation at a time, whole prompts, no cache budget beyond the model's context. */
    public static final BatchedGenerator.Limits ONE_AT_A_TIME = new BatchedGenerator.Limits(1, Long.MAX_VALUE, 0);

    private final LanguageModel model;
    private final String modelId;
    private final BatchedGenerator batcher;
    /** The served adapter its generations use (0: the model as loaded). */
    private final int adapter;
    /** Whether closing it closes the model and the batcher (false: a view, see {@link #forAdapter}). */
    private final boolean owner;

    public LanguageModelGenerator(LanguageModel model, String modelId) {
        this(model, modelId, ONE_AT_A_TIME);
    }

    public LanguageModelGenerator(LanguageModel model, String modelId, BatchedGenerator.Limits limits) {
        this(model, modelId, new BatchedGenerator(model, limits), 0, true);
    }

    private LanguageModelGenerator(LanguageModel model, String modelId, BatchedGenerator batcher, int adapter, boolean owner) {
        this.model = model;
        this.modelId = modelId;
        this.batcher = batcher;
        this.adapter = adapter;
        this.owner = owner;
    }

    /** Loads {@code checkpointDir} in fp32 and, when {@code adapter} is not null, merges it. */
    public static LanguageModelGenerator load(Path checkpointDir, PeftAdapter adapter) {
        return load(checkpointDir, adapter == null ? List.of() : List.of(adapter), WeightFormat.FP32, ONE_AT_A_TIME);
    }

    /**
     * Loads {@code checkpointDir} with its weights held as {@code weights} and {@code adapters}: one is folded into fp32
     * weights (beside low-precision ones); several are all applied unmerged, each generation with the one it asks for
     * ({@link #forAdapter}: adapter i + 1 is {@code adapters.get(i)}, 0 the base alone).
     */
    public static LanguageModelGenerator load(Path checkpointDir, List<PeftAdapter> adapters, WeightFormat weights, BatchedGenerator.Limits limits) {
        LanguageModel model = LanguageModel.load(checkpointDir, weights);
        try {
            if (adapters.size() > 1) LoraLayers.applyAll(adapters, model.model());
            else if (adapters.size() == 1 && packed(model, adapters.get(0))) LoraLayers.apply(adapters.get(0), model.model());
            else if (adapters.size() == 1) merge(model, adapters.get(0));
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return new LanguageModelGenerator(model, checkpointDir.toAbsolutePath().normalize().getFileName().toString(), limits);
    }

    /** Whether a module the adapter targets is held in low precision (then the adapter stays unmerged). */
    private static boolean packed(LanguageModel model, PeftAdapter adapter) {
        return adapter.modules().keySet().stream().anyMatch(path -> model.model().linears().get(path) instanceof PackedLinear);
    }

    /** Folds every module of {@code adapter} into the model's matching dense linear. */
    static void merge(LanguageModel model, PeftAdapter adapter) {
        Map<String, Linear> linears = model.model().linears();
        double scale = adapter.config().scale();
        for (Map.Entry<String, LoraWeights> e : adapter.modules().entrySet()) {
            Linear linear = linears.get(e.getKey());
            if (linear == null) {
                throw new UserError("the adapter targets module '" + e.getKey() + "', which checkpoint " + model.checkpointDir()
                        + " does not have: was it trained on another base model? (adapter base model: " + adapter.config().baseModel() + ")");
            }
            if (!(linear instanceof DenseLinear dense)) {
                throw new UserError("module '" + e.getKey() + "' is not a plain dense layer (" + linear.getClass().getSimpleName()
                        + "); LoRA merging needs the fp32 weights");
            }
            LoraWeights w = e.getValue();
            if (w.in() != dense.inFeatures() || w.out() != dense.outFeatures()) {
                throw new UserError("the adapter's module '" + e.getKey() + "' is [" + w.out() + ", " + w.in() + "] but the checkpoint's is ["
                        + dense.outFeatures() + ", " + dense.inFeatures() + "]: the adapter belongs to another base model");
            }
            NDArray weight = dense.weight();
            NDArray delta = weight.getManager().create(w.delta(scale), weight.getShape());
            model.model().replaceLinear(e.getKey(), new DenseLinear(weight.add(delta), dense.bias()));
            delta.close();
        }
    }

    /** The loaded model (tests compare its logits). */
    LanguageModel model() {
        return model;
    }

    @Override
    public String modelId() {
        return modelId;
    }

    /** Tokens {@code text} takes as a prompt: with the tokenizer's own template (BOS for Llama), as generation encodes it. */
    @Override
    public int countTokens(String text) {
        return model.tokenizer().encode(text, true).length;
    }

    /** The model's context, or less when the KV cache budget cannot hold a whole one. */
    @Override
    public int maxSequenceLength() {
        return batcher.maxPositions();
    }

    @Override
    public BatchedGenerator batching() {
        return batcher;
    }

    /**
     * This model generating with served adapter {@code adapter} (see {@link #load(Path, List, WeightFormat, BatchedGenerator.Limits)};
     * 0: the model as loaded), for a chain of its own; closing it leaves the model open.
     */
    public LanguageModelGenerator forAdapter(int adapter) {
        return new LanguageModelGenerator(model, modelId, batcher, adapter, false);
    }

    @Override
    public Generation generate(String prompt, Sampling s, TokenSink sink, BooleanSupplier cancelled) {
        int[] ids = model.tokenizer().encode(prompt, true); // the tokenizer's own template (BOS for Llama), as in training
        GenerationConfig config = new GenerationConfig(s.maxNewTokens(), s.temperature(), s.topK(), s.topP(), s.repetitionPenalty(),
                s.seed(), s.stopStrings());
        long t0 = System.nanoTime();
        AtomicLong first = new AtomicLong(-1);
        // The model thread only queues the text; this (the request's) thread writes it, so a client slow to read holds up
        // its own answer, not the batch. A sink that fails (the client is gone) ends the generation at its next token.
        LinkedBlockingQueue<String> deltas = new LinkedBlockingQueue<>();
        AtomicBoolean sinkFailed = new AtomicBoolean();
        CompletableFuture<GenerationResult> done = batcher.submit(ids, config, (id, delta) -> {
            first.compareAndSet(-1, System.nanoTime());
            if (!delta.isEmpty()) deltas.add(delta);
        }, () -> sinkFailed.get() || cancelled.getAsBoolean(), adapter);
        RuntimeException failure = null;
        try {
            while (!done.isDone() || !deltas.isEmpty()) {
                String delta = deltas.poll(20, TimeUnit.MILLISECONDS);
                if (delta == null || failure != null) continue;
                try {
                    sink.onDelta(delta);
                } catch (RuntimeException e) {
                    failure = e;
                    sinkFailed.set(true);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            sinkFailed.set(true);
            throw new IllegalStateException("interrupted while generating", e);
        }
        if (failure != null) throw failure;
        GenerationResult r = done.join();
        long totalMs = (System.nanoTime() - t0) / 1_000_000;
        // The count excludes an ending end-of-sequence token, which is no part of the answer.
        int completion = r.generatedIds().length;
        if (r.finishReason().equals("eos") && completion > 0) completion--;
        return new Generation(r.text(), ids.length, completion, r.finishReason(), r.prefillMs(),
                Math.max(0, totalMs - r.prefillMs()), first.get() < 0 ? -1 : (first.get() - t0) / 1_000_000);
    }

    @Override
    public void close() {
        if (!owner) return;
        batcher.close();
        model.close();
    }
}
