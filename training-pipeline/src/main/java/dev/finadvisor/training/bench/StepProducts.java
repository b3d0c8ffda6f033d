package dev.finadvisor.training.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.finadvisor.llm.model.CausalLM;
import dev.finadvisor.llm.model.DenseLinear;
import dev.finadvisor.llm.model.Linear;
import dev.finadvisor.llm.model.LowRankLinear;
import dev.finadvisor.llm.model.ModelConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The matrix products of one LoRA training step of a Llama-family model, and nothing else: the same engine
 * products on the model's own weights and LoRA factors, with operands of the step's shapes, but no
 * elementwise op (norms, activations, rotary, softmax, loss), no optimizer and no autograd. Its time is the
 * step time this engine would reach on this machine if everything but the products were free: the
 * ceiling a real step's share of the matmul rate can approach, never reach.
 * <p>
 * Per decoder layer, forward: the seven projections ({@code x W^T}) and, under LoRA, {@code x A^T} and
 * {@code low B^T}; attention's {@code q k^T} and {@code p v} per query head. Backward as autograd runs it
 * for a frozen base: each projection's input gradient {@code dy W} (not for layer 0's q/k/v, whose input
 * needs none), LoRA's {@code dy^T low}, {@code dy B}, {@code dlow^T x} and {@code dlow A} (the last not at
 * layer 0's q/k/v), and attention's four. The output head forward and its input gradient.
 */
final class StepProducts {
    private static final String[] PROJECTIONS = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
            "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};

    private record Projection(NDArray weight, NDArray a, NDArray b, boolean inputGradient) {}

    private StepProducts() {}

    /**
     * Median seconds of {@code steps} such steps of {@code batch} x {@code seq} tokens, after two warm-up steps;
     * {@code lora} false leaves out LoRA's products (the frozen base's and attention's alone).
     */
    static double medianSeconds(CausalLM model, int batch, int seq, int steps, boolean lora, NDManager manager) {
        ModelConfig c = model.config();
        List<Projection> projections = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) {
            for (int p = 0; p < PROJECTIONS.length; p++) {
                String path = "model.layers." + i + "." + PROJECTIONS[p];
                Linear linear = model.linears().get(path);
                if (linear == null) throw new IllegalArgumentException("a Llama-family model only: it has no " + path);
                LowRankLinear low = linear instanceof LowRankLinear l ? l : null;
                Linear base = low != null ? low.base() : linear;
                if (!(base instanceof DenseLinear dense)) {
                    throw new IllegalArgumentException("products of a dense fp32 base only, got " + base.getClass().getSimpleName());
                }
                boolean factors = lora && low != null;
                projections.add(new Projection(dense.weight(), factors ? low.a() : null, factors ? low.b() : null,
                        i > 0 || p > 2));
            }
        }
        NDArray head = ((DenseLinear) model.linears().get("lm_head")).weight();
        int rows = batch * seq;
        int heads = c.numHeads();
        int d = c.headDim();
        double[] seconds = new double[steps];
        for (int step = -2; step < steps; step++) {
            try (NDManager scope = manager.newSubManager()) {
                // operands of the step's shapes, one per width: the values do not matter to a product's time
                Map<Long, NDArray> activations = new HashMap<>();
                Function<Long, NDArray> operand = width -> activations.computeIfAbsent(width, w -> scope.randomNormal(new Shape(rows, w)));
                NDArray q = scope.randomNormal(new Shape((long) batch * heads, seq, d));
                NDArray k = scope.randomNormal(new Shape((long) batch * heads, seq, d));
                NDArray probs = scope.randomNormal(new Shape((long) batch * heads, seq, seq));
                long start = System.nanoTime();
                for (int i = 0; i < projections.size(); i++) {
                    Projection p = projections.get(i);
                    NDArray x = operand.apply(p.weight().getShape().get(1));
                    Linear.project(x, p.weight(), null);
                    if (p.a() != null) Linear.project(Linear.project(x, p.a(), null), p.b(), null);
                    if (i % PROJECTIONS.length == 2) { // after v: attention
                        q.matMul(k.transpose(0, 2, 1));
                        probs.matMul(q);
                    }
                }
                NDArray logits = Linear.project(operand.apply((long) c.hiddenSize()), head, null);
                logits.matMul(head);
                for (int i = projections.size() - 1; i >= 0; i--) {
                    Projection p = projections.get(i);
                    NDArray x = operand.apply(p.weight().getShape().get(1));
                    NDArray dy = operand.apply(p.weight().getShape().get(0));
                    if (p.inputGradient()) dy.matMul(p.weight());
                    if (p.a() != null) {
                        dy.transpose().matMul(operand.apply(p.a().getShape().get(0))); // dB = dy^T low
                        NDArray dLow = dy.matMul(p.b());
                        dLow.transpose().matMul(x);
                        if (p.inputGradient()) dLow.matMul(p.a());
                    }
                    if (i % PROJECTIONS.length == 3) { // o's input gradient done: attention backward
                        q.matMul(k.transpose(0, 2, 1)); // d probs = d out v^T
                        probs.transpose(0, 2, 1).matMul(q); // d v = probs^T d out
                        probs.matMul(k); // d q = d scores k
                        probs.transpose(0, 2, 1).matMul(q); // d k = d scores^T q
                    }
                }
                if (step >= 0) seconds[step] = (System.nanoTime() - start) / 1e9;
            }
        }
        Arrays.sort(seconds);
        return seconds[steps / 2];
    }
}
