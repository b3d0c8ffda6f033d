package dev.finadvisor.llm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.finadvisor.llm.EngineMemory;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter), step for step what
 * {@code torch.optim.AdamW} does: decay the parameter by {@code lr * weight_decay}, update the bias-
 * corrected moments, then {@code p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)}. Runs outside
 * autograd, in place; its moments are named after the parameters so checkpoints can hold them.
 * fp32 parameters update in one Java SIMD pass over the engine's memory (a LoRA run's 168 small
 * factors took ~50 ms a step as engine ops, most of it per-op overhead); other types use engine ops.
 */
public final class AdamW implements AutoCloseable {
    /** Hyper-parameters; Transformers' defaults are {@link #DEFAULTS} with weight decay 0. */
    public record Hyper(double beta1, double beta2, double eps, double weightDecay) {
        public static final Hyper DEFAULTS = new Hyper(0.9, 0.999, 1e-8, 0.0);
    }

    private final Map<String, NDArray> params;
    private final Hyper hyper;
    private final NDManager manager;
    private final Map<String, NDArray> expAvg = new LinkedHashMap<>();
    private final Map<String, NDArray> expAvgSq = new LinkedHashMap<>();
    private long steps;

    /** Optimises {@code params} (name -> trainable tensor, which must carry a gradient when {@link #step} runs). */
    public AdamW(Map<String, NDArray> params, Hyper hyper, NDManager parent) {
        this.params = new LinkedHashMap<>(params);
        this.hyper = hyper;
        this.manager = parent.newSubManager();
        for (Map.Entry<String, NDArray> e : this.params.entrySet()) {
            expAvg.put(e.getKey(), manager.zeros(e.getValue().getShape(), e.getValue().getDataType()));
            expAvgSq.put(e.getKey(), manager.zeros(e.getValue().getShape(), e.getValue().getDataType()));
        }
    }

    /** Updates every parameter from its current gradient with learning rate {@code lr}. */
    public void step(double lr) {
        steps++;
        double bc1 = 1 - Math.pow(hyper.beta1, steps);
        double bc2Sqrt = Math.sqrt(1 - Math.pow(hyper.beta2, steps));
        double stepSize = lr / bc1;
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            NDArray p = e.getValue();
            NDArray m = expAvg.get(e.getKey());
            NDArray v = expAvgSq.get(e.getKey());
            try (NDManager scope = manager.newSubManager(); NDArray g = p.getGradient()) {
                g.attach(scope);
                if (!javaStep(p, g, m, v, lr, bc2Sqrt, stepSize)) engineStep(p, g, m, v, lr, bc2Sqrt, stepSize, scope);
            }
        }
    }

    /** The update in one Java pass over the engine's memory; false when it cannot run here (not fp32, no Vector API). */
    private boolean javaStep(NDArray p, NDArray g, NDArray m, NDArray v, double lr, double bc2Sqrt, double stepSize) {
        if (!EngineMemory.VECTOR_API) return false;
        // p, m and v are contiguous (made so), so their buffers are the tensors; g is only read
        ByteBuffer pb = EngineMemory.floats(p);
        ByteBuffer gb = EngineMemory.floats(g);
        ByteBuffer mb = EngineMemory.floats(m);
        ByteBuffer vb = EngineMemory.floats(v);
        if (pb == null || gb == null || mb == null || vb == null) return false;
        OptimizerKernels.adamw(pb, gb, mb, vb, Math.toIntExact(p.size()), (float) (1 - lr * hyper.weightDecay),
                (float) hyper.beta1, (float) (1 - hyper.beta1), (float) hyper.beta2, (float) (1 - hyper.beta2),
                (float) bc2Sqrt, (float) hyper.eps, (float) -stepSize);
        return true;
    }

    /** The same update as engine ops, for any float type. */
    private void engineStep(NDArray p, NDArray g, NDArray m, NDArray v, double lr, double bc2Sqrt, double stepSize, NDManager scope) {
        if (hyper.weightDecay != 0) p.muli(1 - lr * hyper.weightDecay);
        NDArray gScaled = g.mul(1 - hyper.beta1);
        gScaled.attach(scope);
        m.muli(hyper.beta1).addi(gScaled);
        NDArray g2 = g.mul(g);
        g2.attach(scope);
        g2.muli(1 - hyper.beta2);
        v.muli(hyper.beta2).addi(g2);
        NDArray denom = v.sqrt();
        denom.attach(scope);
        denom.divi(bc2Sqrt).addi(hyper.eps);
        NDArray update = m.div(denom);
        update.attach(scope);
        update.muli(stepSize);
        p.subi(update);
    }

    public long steps() {
        return steps;
    }

    /** The moments by name ({@code <param>.exp_avg}, {@code <param>.exp_avg_sq}), for a checkpoint. */
    public Map<String, NDArray> state() {
        Map<String, NDArray> state = new LinkedHashMap<>();
        for (String name : params.keySet()) {
            state.put(name + ".exp_avg", expAvg.get(name));
            state.put(name + ".exp_avg_sq", expAvgSq.get(name));
        }
        return state;
    }

    /** Restores the moments and step count a checkpoint holds; every parameter's moments must be present. */
    public void load(Map<String, float[]> state, long steps) {
        for (String name : params.keySet()) {
            for (String suffix : new String[] {".exp_avg", ".exp_avg_sq"}) {
                float[] values = state.get(name + suffix);
                NDArray target = suffix.equals(".exp_avg") ? expAvg.get(name) : expAvgSq.get(name);
                if (values == null) throw new IllegalArgumentException("optimizer state has no '" + name + suffix + "'");
                if (values.length != target.size()) {
                    throw new IllegalArgumentException("optimizer state '" + name + suffix + "' has " + values.length
                            + " values, the parameter has " + target.size());
                }
                EngineMemory.write(target, values);
            }
        }
        this.steps = steps;
    }

    @Override
    public void close() {
        manager.close();
    }
}
