package dev.finadvisor.llm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.finadvisor.llm.EngineMemory;
import java.nio.ByteBuffer;
import java.util.Collection;

/**
 * Clipping by the global L2 norm of all gradients together, as {@code torch.nn.utils.clip_grad_norm_}
 * (and so Hugging Face's Trainer) does it; DJL's own clipping is per element, a different thing.
 */
public final class GradientClipping {
    private GradientClipping() {}

    /**
     * Scales every parameter's gradient by {@code min(1, maxNorm / (norm + 1e-6))} in place and returns
     * the norm before clipping (NaN or infinite if any gradient is; then nothing is scaled).
     * {@code maxNorm <= 0} only measures.
     */
    public static double clip(Collection<NDArray> params, double maxNorm, NDManager scratch) {
        try (NDManager scope = scratch.newSubManager()) {
            NDList grads = new NDList();
            for (NDArray p : params) {
                NDArray g = p.getGradient();
                g.attach(scope);
                grads.add(g);
            }
            double norm = Math.sqrt(sumOfSquares(grads, scope));
            if (!Double.isFinite(norm) || maxNorm <= 0) return norm;
            float coef = (float) (maxNorm / ((float) norm + 1e-6f));
            if (coef < 1f) {
                for (NDArray g : grads) g.muli(coef);
            }
            return norm;
        }
    }

    /** Sum of squares of every element: fp32 tensors in Java over the engine's memory, others as engine ops. */
    private static double sumOfSquares(NDList grads, NDManager scope) {
        double javaSum = 0;
        NDList squares = new NDList();
        for (NDArray g : grads) {
            ByteBuffer b = EngineMemory.VECTOR_API ? EngineMemory.floats(g) : null;
            if (b != null) {
                javaSum += OptimizerKernels.sumOfSquares(b, Math.toIntExact(g.size()));
            } else {
                NDArray sq = g.mul(g).sum();
                sq.attach(scope);
                squares.add(sq);
            }
        }
        if (squares.isEmpty()) return javaSum;
        NDArray total = squares.size() == 1 ? squares.get(0) : NDArrays.stack(squares).sum();
        total.attach(scope);
        return javaSum + total.toType(DataType.FLOAT64, false).getDouble();
    }

    /** Sets every parameter's accumulated gradient to zero (gradients add up across backward passes until then). */
    public static void zeroGradients(Collection<NDArray> params) {
        for (NDArray p : params) {
            try (NDArray g = p.getGradient()) {
                g.subi(g);
            }
        }
    }
}
