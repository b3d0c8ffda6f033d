package dev.finadvisor.llm.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.finadvisor.llm.lora.LoraLayers;
import dev.finadvisor.llm.lora.LoraLinear;
import dev.finadvisor.llm.model.CausalLM;
import dev.finadvisor.llm.model.Linear;
import dev.finadvisor.llm.model.TrainingPass;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;

/**
 * QLoRA's training pass, holding the dequantised fp32 weights of one decoder layer at a time
 * instead of all of them. Autograd keeps the weight every matmul used until backward (to compute
 * the input gradient), and DJL offers no custom autograd or saved-tensor hooks to store it as NF4
 * instead. So: the same projection of every layer (q_proj of layers 0..L-1, ...) decodes into one
 * shared fp32 buffer; the forward cuts the graph where each layer begins (the hidden state becomes
 * a fresh leaf); and backward runs one layer at a time from the last, first re-decoding that
 * layer's weights into the shared buffers (in place, unseen by autograd), so each matmul's saved
 * weight holds exactly the values its forward used. The gradients are those of one backward
 * through the whole graph (tested); the cost is a second dequantisation per weight and step.
 * Linears outside the numbered decoder layers, and non-NF4 ones, are left as they are.
 */
public final class LayerwiseBackward implements TrainingPass, AutoCloseable {
    private final CausalLM model;
    private final NDManager manager;
    /** Per decoder layer: its NF4 linears and the shared buffer each decodes into. */
    private final List<Map<Nf4Linear, NDArray>> layers = new ArrayList<>();
    private final long bufferBytes;
    /** Per layer of the last forward: the hidden state entering it as computed, and the leaf the layer used. */
    private final List<NDArray> entering = new ArrayList<>();
    private final List<NDArray> leaves = new ArrayList<>();

    /** Finds {@code model}'s NF4 linears (bare or under LoRA) and allocates one buffer per projection role. */
    public LayerwiseBackward(CausalLM model, NDManager parent) {
        this.model = model;
        this.manager = parent.newSubManager();
        Map<String, NDArray> buffers = new HashMap<>();
        long bytes = 0;
        for (Map.Entry<String, Linear> e : model.linears().entrySet()) {
            Linear base = e.getValue() instanceof LoraLinear lora ? lora.base() : e.getValue();
            if (!(base instanceof Nf4Linear q)) continue;
            Matcher m = CausalLM.LAYER_INDEX.matcher(e.getKey());
            if (!m.find()) continue; // not in a numbered decoder layer: keeps its own fresh copy per call
            int layer = Integer.parseInt(m.group(1));
            String role = e.getKey().substring(0, m.start()) + ".*." + e.getKey().substring(m.end()) + " " + q.weight().shape();
            NDArray buffer = buffers.get(role);
            if (buffer == null) {
                buffer = manager.create(q.weight().shape(), DataType.FLOAT32);
                buffers.put(role, buffer);
                bytes += 4L * q.weight().shape().size();
            }
            while (layers.size() <= layer) layers.add(new LinkedHashMap<>());
            layers.get(layer).put(q, buffer);
        }
        this.bufferBytes = bytes;
    }

    /** Bytes of the shared fp32 buffers: one decoder layer's NF4 weights, dequantised. */
    public long bufferBytes() {
        return bufferBytes;
    }

    @Override
    public NDArray forward(NDArray inputIds) {
        return forward(inputIds, null);
    }

    @Override
    public NDArray forward(NDArray inputIds, NDArray rows) {
        entering.clear();
        leaves.clear();
        int firstTrainable = LoraLayers.firstLayerWithLora(model);
        for (Map<Nf4Linear, NDArray> layer : layers) layer.forEach(Nf4Linear::useBuffer);
        try {
            return model.forward(inputIds, (layer, hidden) -> {
                // (NDArray.hasGradient() cannot tell: DJL's PyTorch engine answers false for a non-leaf)
                if (layer <= firstTrainable) {
                    // nothing trainable below this layer: no gradient to pass further down
                    entering.add(null);
                    leaves.add(null);
                    return hidden;
                }
                NDArray leaf = hidden.stopGradient();
                leaf.setRequiresGradient(true);
                entering.add(hidden);
                leaves.add(leaf);
                return leaf;
            }, rows);
        } finally {
            // outside this pass (evaluation, generation, another trainer) each call decodes afresh
            for (Map<Nf4Linear, NDArray> layer : layers) layer.keySet().forEach(l -> l.useBuffer(null));
        }
    }

    @Override
    public void backward(NDArray logits, NDArray gradient) {
        int last = leaves.size() - 1;
        redecode(last);
        TrainingPass.backpropagate(logits, gradient);
        for (int i = last; i >= 1; i--) {
            NDArray leaf = leaves.get(i);
            if (leaf == null) continue;
            redecode(i - 1);
            // d loss / d hidden_i is the leaf's gradient: layer i-1's graph continues from there
            try (NDArray g = leaf.getGradient()) {
                TrainingPass.backpropagate(entering.get(i), g);
            }
        }
        entering.clear();
        leaves.clear();
    }

    /** Puts layer {@code i}'s weights back into the shared buffers its matmuls saved. */
    private void redecode(int i) {
        if (i < 0 || i >= layers.size()) return;
        layers.get(i).forEach((linear, buffer) -> linear.weight().dequantizeInto(buffer));
    }

    @Override
    public void close() {
        manager.close();
    }
}
