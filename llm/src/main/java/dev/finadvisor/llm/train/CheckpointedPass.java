package dev.finadvisor.llm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import dev.finadvisor.llm.lora.LoraLayers;
import dev.finadvisor.llm.lora.LoraLinear;
import dev.finadvisor.llm.model.CausalLM;
import dev.finadvisor.llm.model.Linear;
import dev.finadvisor.llm.model.ProjectionTape;
import dev.finadvisor.llm.model.TrainingPass;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Gradient checkpointing (Transformers' {@code gradient_checkpointing}): the forward runs every decoder layer
 * without recording and keeps only the hidden state entering each; backward runs the layers from the last,
 * each recomputed from its saved input with recording, then back-propagated and freed. What a step holds is
 * one layer's activations plus one hidden state per layer, instead of every layer's activations, for one more
 * forward of the decoder layers. Frozen low-precision products (an NF4 base, a packed head) are cut from the graph
 * ({@link ProjectionTape}): their fp32 weights exist one product at a time, never held for backward. LoRA dropout
 * masks are drawn again as they were (the layers' draw counts are rewound), so the gradients are those of one backward
 * through the whole graph (tested).
 */
public final class CheckpointedPass implements TrainingPass {
    private final CausalLM model;
    /** Per decoder layer: its LoRA linears, whose dropout draws a recomputation rewinds. */
    private final List<List<LoraLinear>> loraByLayer = new ArrayList<>();
    /** The lowest decoder layer with a LoRA linear: nothing below it needs a gradient. */
    private final int firstTrainable;
    private CausalLM.Stages stages;
    /** Per layer of the last forward: the hidden state entering it, and its LoRA layers' draw counts before it ran. */
    private final List<NDArray> inputs = new ArrayList<>();
    private final List<long[]> draws = new ArrayList<>();
    private NDArray top;
    /** The output head's frozen products (a packed, tied head's fp32 slabs would otherwise stay until its backward). */
    private ProjectionTape head;

    public CheckpointedPass(CausalLM model) {
        this.model = model;
        int layers = model.config().numLayers();
        for (int i = 0; i < layers; i++) loraByLayer.add(new ArrayList<>());
        for (Map.Entry<String, Linear> e : model.linears().entrySet()) {
            int layer = CausalLM.layerOf(e.getKey());
            // outside the decoder layers (the head): recorded in the forward
            if (e.getValue() instanceof LoraLinear lora && layer >= 0) loraByLayer.get(layer).add(lora);
        }
        firstTrainable = LoraLayers.firstLayerWithLora(model);
    }

    @Override
    public NDArray forward(NDArray inputIds) {
        return forward(inputIds, null);
    }

    @Override
    public NDArray forward(NDArray inputIds, NDArray rows) {
        release();
        NDManager step = inputIds.getManager();
        stages = model.stages(inputIds, null);
        boolean recording = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        NDArray x;
        try {
            x = stages.embed();
            for (int i = 0; i < loraByLayer.size(); i++) {
                if (recording) { // a backward will recompute the layer from here; an evaluation needs nothing kept
                    inputs.add(x);
                    draws.add(loraByLayer.get(i).stream().mapToLong(LoraLinear::dropoutDraws).toArray());
                }
                x = inLayerScope(step, x, i, recording);
            }
        } finally {
            JniUtils.setGradMode(recording);
        }
        top = x.stopGradient();
        top.setRequiresGradient(true);
        NDArray leaving = top;
        head = new ProjectionTape();
        return head.record(() -> stages.head(leaving, rows));
    }

    @Override
    public void backward(NDArray logits, NDArray gradient) {
        if (top == null || inputs.size() != loraByLayer.size()) throw new IllegalStateException("backward without a recorded forward");
        NDManager step = top.getManager();
        head.backward(logits, gradient);
        logits.close(); // the head's share of memory goes before the decoder layers' backward needs it
        gradient.close();
        NDArray g = top.getGradient();
        for (int i = loraByLayer.size() - 1; i >= firstTrainable && g != null; i--) {
            List<LoraLinear> loras = loraByLayer.get(i);
            for (int j = 0; j < loras.size(); j++) loras.get(j).rewindDropout(draws.get(i)[j]);
            boolean below = i > firstTrainable; // does anything under this layer train? then its input needs a gradient
            try (NDManager layer = step.newSubManager()) {
                NDArray leaf = inputs.get(i).stopGradient();
                leaf.attach(layer); // every tensor of the recomputation lands in this scope: freed when the layer is done
                if (below) leaf.setRequiresGradient(true);
                ProjectionTape tape = new ProjectionTape();
                int layerIndex = i;
                tape.backward(tape.record(() -> stages.layer(layerIndex, leaf)), g);
                NDArray next = below ? leaf.getGradient() : null;
                if (next != null) next.attach(step);
                g.close();
                g = next;
            }
        }
        if (g != null) g.close();
        release();
    }

    /**
     * Decoder layer {@code i} on {@code x}, its intermediate tensors in a scope of their own; the result in {@code step}, and
     * {@code x} too if {@code keepInput} (else it goes with the scope).
     */
    private NDArray inLayerScope(NDManager step, NDArray x, int i, boolean keepInput) {
        try (NDManager layer = step.newSubManager()) {
            x.attach(layer);
            NDArray out = stages.layer(i, x);
            if (keepInput) x.attach(step);
            out.attach(step);
            return out;
        }
    }

    /** The hidden states the last forward kept, one per decoder layer (for tests). */
    List<NDArray> savedInputs() {
        return List.copyOf(inputs);
    }

    private void release() {
        inputs.clear();
        draws.clear();
        stages = null;
        top = null;
        head = null;
    }
}
