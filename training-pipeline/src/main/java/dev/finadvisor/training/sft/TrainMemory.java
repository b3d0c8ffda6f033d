package dev.finadvisor.training.sft;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.lora.LoraConfig;
import dev.finadvisor.llm.lowbit.MemoryCheck;
import dev.finadvisor.llm.model.ModelConfig;
import dev.finadvisor.llm.model.PackedLinear;
import dev.finadvisor.llm.safetensors.Dtype;
import dev.finadvisor.llm.safetensors.SafetensorsShards;
import dev.finadvisor.llm.safetensors.TensorInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The memory a fine-tuning run holds at its peak, estimated before any weight is read from the checkpoint's header, its
 * config.json and the run's configuration, so that a run the machine cannot hold is refused at once instead of ending in
 * an out-of-memory error an hour in. Parts: the base's weights as the run holds them (QLoRA: decoder projections in NF4,
 * a bf16 embedding and head kept so; LoRA: everything fp32), LoRA's factors with their gradients and AdamW's two
 * moments, and a micro-step's activations: with gradient checkpointing one hidden state per layer plus one layer
 * recomputed (its frozen weights dequantised a slab at a time), without it every layer's (and one layer's weights). Measured against it (bench/train-7b): Falcon-7B
 * QLoRA with checkpointing at 1,024 tokens.
 */
public record TrainMemory(long weights, long lora, long activations, long tokens) {
    /** The JVM, libtorch, the tokenizer, and the heap's room for garbage. */
    static final long OVERHEAD = 1L << 30;
    /** Bytes per weight of the trainer's NF4 (codes, double-quantised absmax per 64). */
    static final double NF4_BYTES = 0.516;
    /** Weights of an NF4 projection dequantised at once outside autograd (Nf4Linear's slabs). */
    static final long NF4_SLAB = 16L << 20;
    /** Weights of a packed output head dequantised at once (PackedLinear's scratch). */
    static final long HEAD_SLAB = PackedLinear.SCRATCH_FLOATS;

    public long total() {
        return weights + lora + activations + OVERHEAD;
    }

    /** Estimates a run of {@code c} on the checkpoint whose header is {@code shards} and whose config is {@code model}. */
    public static TrainMemory estimate(SafetensorsShards shards, ModelConfig model, SftConfig c) {
        boolean nf4 = c.quantization().equals("nf4");
        LoraConfig targets = new LoraConfig(c.lora().r(), c.lora().alpha(), 0, c.lora().target_modules(), "", null);
        long weights = 0;
        long loraParams = 0;
        long layerProjections = 0; // weights of the decoder's projections, all layers
        long largest = 0;          // the largest of them
        for (String name : shards.names()) {
            TensorInfo t = shards.info(name);
            long n = t.elementCount();
            if (t.shape().length != 2) {
                weights += 4 * n;
                continue;
            }
            boolean table = name.contains("embed") || name.startsWith("lm_head");
            if (!table) {
                layerProjections += n;
                largest = Math.max(largest, n);
                String module = name.endsWith(".weight") ? name.substring(0, name.length() - ".weight".length()) : name;
                if (targets.targets(module)) loraParams += (long) c.lora().r() * (t.shape()[0] + t.shape()[1]);
            }
            weights += nf4 && !table ? (long) (NF4_BYTES * n) : nf4 && t.dtype() == Dtype.BF16 ? 2 * n : 4 * n;
        }
        long tokens = (long) c.training().per_device_train_batch_size() * c.model().max_seq_length();
        long h = model.hiddenSize();
        long layer = 4 * tokens * (4 * h + 2L * model.intermediateSize()) * 2   // a layer's activations and their gradients
                + 4 * (long) model.numHeads() * tokens * tokens * 3;              // attention probabilities, their gradient, the scores'
        boolean checkpointing = c.training().gradient_checkpointing();
        // QLoRA's fp32 copies of frozen weights: with checkpointing one slab of one projection at a time (the products
        // are cut from the graph, ProjectionTape), the head's a slab at a time too; without it, one layer's and the head's
        long dequantised = !nf4 ? 0 : checkpointing ? 4 * Math.min(largest, NF4_SLAB) : 4 * layerProjections / model.numLayers();
        long headWeights = !nf4 ? 0 : checkpointing ? 4 * Math.min(h * model.vocabSize(), HEAD_SLAB) : 4 * h * model.vocabSize();
        long head = 4 * tokens * model.vocabSize() * 2 + headWeights;
        long activations = checkpointing
                ? 4 * model.numLayers() * tokens * h + Math.max(layer + dequantised, head)
                : model.numLayers() * layer + dequantised + head;
        return new TrainMemory(weights, 16 * loraParams, activations, tokens);
    }

    /** One line: the total and its parts. */
    public String describe() {
        return String.format(Locale.ROOT, "about %s at the peak: base weights %s, LoRA with gradients and AdamW %s, activations of %d tokens %s",
                MemoryCheck.gb(total()), MemoryCheck.gb(weights), MemoryCheck.gb(lora), tokens, MemoryCheck.gb(activations));
    }

    /** Refuses a run that needs more than {@code available} bytes (0: unknown, nothing refused), naming what would shrink it. */
    public void check(Path modelDir, SftConfig c, long available) {
        if (available <= 0 || total() <= available) return;
        List<String> options = new ArrayList<>();
        if (!c.quantization().equals("nf4")) options.add("quantization: nf4 (QLoRA)");
        if (!c.training().gradient_checkpointing()) options.add("training.gradient_checkpointing: true");
        if (tokens > 256) options.add("a smaller model.max_seq_length or per_device_train_batch_size (now " + tokens + " tokens a micro-step)");
        options.add("a machine with more memory");
        throw new UserError("training " + modelDir + " needs " + describe() + "; this machine has " + MemoryCheck.gb(available)
                + " available. Try " + String.join(", ", options));
    }
}
