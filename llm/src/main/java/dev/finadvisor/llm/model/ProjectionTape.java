package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.engine.EngineException;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Back-propagates through frozen low-precision projections (NF4, packed bf16) without autograd holding their fp32
 * weights. Autograd keeps the weight of every product it records until its backward has run, to compute the input's
 * gradient; for a dequantised weight that is a fresh fp32 copy (a Falcon-7B decoder layer's four: 0.83 GB; its tied
 * bf16 head: 1.2 GB), and DJL offers no custom autograd function that could keep the packed weight instead. So, while a
 * tape records, each frozen product runs unrecorded and its output becomes a leaf; {@link #backward} back-propagates the
 * output, then takes the cut products from the last: the input's gradient {@code dy W} from the packed weight
 * ({@link Frozen#inputGradient}), back-propagated from the input on. A product's output gradient is complete when its
 * turn comes, because everything that read the output was computed after it, so was taken before. Products that read
 * the same input (q, k and v; Falcon's fused query_key_value and its MLP) send their gradients back once, summed. The
 * graph is kept across these backward calls (they can share nodes: a norm feeding a cut product and a LoRA path); it
 * goes when the tensors of the recorded pass are closed. The gradients are those of one backward through the whole
 * graph (tested); the cost is a second dequantisation of each frozen weight.
 */
public final class ProjectionTape {
    /** A frozen projection that gives the gradient of its input from its output's. */
    public interface Frozen {
        /** {@code dy [.., out]} times the weight: {@code [.., in]}, in dy's manager, computed without autograd. */
        NDArray inputGradient(NDArray dy);
    }

    private record Cut(Frozen projection, NDArray input, NDArray output) {}

    private static final ThreadLocal<ProjectionTape> RECORDING = new ThreadLocal<>();
    private final List<Cut> cuts = new ArrayList<>();

    /** Runs {@code pass} (autograd recording) with this tape cutting the frozen products it computes. */
    public NDArray record(Supplier<NDArray> pass) {
        ProjectionTape outer = RECORDING.get();
        RECORDING.set(this);
        try {
            return pass.get();
        } finally {
            RECORDING.set(outer);
        }
    }

    /**
     * Called by a frozen projection on {@code x}: while a tape records (and autograd with it), {@code product} runs
     * unrecorded and its output, a leaf for autograd, is returned and taped; otherwise null, and the caller computes as
     * it would.
     */
    public static NDArray cut(Frozen projection, NDArray x, UnaryOperator<NDArray> product) {
        ProjectionTape tape = RECORDING.get();
        if (tape == null || !JniUtils.isGradMode()) return null;
        NDArray y = unrecorded(() -> product.apply(x));
        y.setRequiresGradient(true);
        tape.cuts.add(new Cut(projection, x, y));
        return y;
    }

    /** Products taped and not yet back-propagated. */
    public int taped() {
        return cuts.size();
    }

    /** Back-propagates {@code gradient} from {@code output} of the recorded pass, through every taped product. */
    public void backward(NDArray output, NDArray gradient) {
        // the output may itself be a cut product's (the head's logits): its gradient is then the one given
        boolean seeded = cuts.stream().anyMatch(c -> c.output() == output);
        if (!seeded) backpropagate(output, gradient);
        Map<NDArray, Integer> firstUse = new IdentityHashMap<>();
        for (int k = 0; k < cuts.size(); k++) firstUse.putIfAbsent(cuts.get(k).input(), k);
        Map<NDArray, NDArray> pending = new IdentityHashMap<>();
        for (int k = cuts.size() - 1; k >= 0; k--) {
            Cut cut = cuts.get(k);
            boolean given = cut.output() == output;
            NDArray dy = given ? gradient : JniUtils.getGradient((PtNDArray) cut.output()); // null: nothing read it
            if (dy != null) {
                NDArray dx = unrecorded(() -> cut.projection().inputGradient(dy));
                if (!given) dy.close();
                NDArray sum = pending.remove(cut.input());
                if (sum != null) {
                    dx.addi(sum);
                    sum.close();
                }
                pending.put(cut.input(), dx);
            }
            cut.output().close(); // this handle; the kept graph may hold the tensor until the pass's tensors are closed
            if (firstUse.get(cut.input()) == k) {
                NDArray dx = pending.remove(cut.input());
                if (dx != null) {
                    backpropagateIfRecorded(cut.input(), dx);
                    dx.close();
                }
            }
        }
        cuts.clear();
    }

    private static NDArray unrecorded(Supplier<NDArray> op) {
        boolean recording = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            return op.get();
        } finally {
            JniUtils.setGradMode(recording);
        }
    }

    /**
     * Back-propagates from {@code x} unless nothing recorded made it (below the lowest trainable layer). DJL's
     * requires-grad flag is false for results of recorded ops and its grad_fn query crashes on tensors without one, so
     * libtorch's own refusal says it.
     */
    private static void backpropagateIfRecorded(NDArray x, NDArray gradient) {
        try {
            backpropagate(x, gradient);
        } catch (EngineException e) {
            if (e.getMessage() == null || !e.getMessage().contains("does not require grad")) throw e;
        }
    }

    private static void backpropagate(NDArray output, NDArray gradient) {
        JniUtils.backward((PtNDArray) output, (PtNDArray) gradient, true, false);
    }
}
