package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;

/**
 * Products with a frozen weight {@code [out, in]} held packed (NF4, bf16, int8) and dequantised to fp32 a slab of rows
 * at a time, so its fp32 copy never exists whole: a slab's rows give those columns of {@code x W^T}, and the slabs' parts
 * of {@code dy W} add up.
 */
public final class WeightSlabs {
    /** Rows {@code [first, first + count)} of the weight in fp32, {@code [count, in]}; closed after its product. */
    @FunctionalInterface
    public interface Rows {
        NDArray get(int first, int count);
    }

    private WeightSlabs() {}

    /** {@code x W^T} (no bias) for a weight of {@code out} rows, {@code slab} rows at a time. */
    public static NDArray product(NDArray x, int out, int slab, Rows rows) {
        NDList parts = new NDList();
        for (int first = 0; first < out; first += slab) {
            try (NDArray w = rows.get(first, Math.min(slab, out - first))) {
                parts.add(Linear.project(x, w, null));
            }
        }
        if (parts.size() == 1) return parts.get(0);
        NDArray y = NDArrays.concat(parts, -1);
        parts.close();
        return y;
    }

    /** {@code dy W} for a weight of {@code out} rows, {@code slab} rows (and dy's columns) at a time. */
    public static NDArray inputGradient(NDArray dy, int out, int slab, Rows rows) {
        NDArray dx = null;
        for (int first = 0; first < out; first += slab) {
            int count = Math.min(slab, out - first);
            try (NDArray w = rows.get(first, count); NDArray part = dy.get(new NDIndex("..., {}:{}", first, first + count))) {
                NDArray product = part.matMul(w);
                if (dx == null) {
                    dx = product;
                } else {
                    dx.addi(product);
                    product.close();
                }
            }
        }
        return dx;
    }
}
