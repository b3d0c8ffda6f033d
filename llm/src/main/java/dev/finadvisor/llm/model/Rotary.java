package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embedding in Hugging Face's "rotate half" layout: the first and second halves of
 * each head are the two coordinates of each rotated pair.
 */
final class Rotary {
    private final float[] inverseFrequencies;
    private final int headDim;

    Rotary(int headDim, double theta, RopeScaling scaling) {
        this.headDim = headDim;
        double[] inv = RopeScaling.inverseFrequencies(headDim, theta, scaling);
        this.inverseFrequencies = new float[inv.length];
        for (int i = 0; i < inv.length; i++) inverseFrequencies[i] = (float) inv[i];
    }

    /** cos and sign-folded sin tables for positions {@code start .. start+count-1}, each {@code [count, headDim]}. */
    Tables at(NDManager manager, int start, int count) {
        int half = headDim / 2;
        float[] cos = new float[count * headDim];
        float[] sin = new float[count * headDim];
        for (int p = 0; p < count; p++) {
            for (int i = 0; i < half; i++) {
                float angle = (start + p) * inverseFrequencies[i]; // fp32 product, as HF computes it
                float c = (float) Math.cos(angle);
                float s = (float) Math.sin(angle);
                cos[p * headDim + i] = c;
                cos[p * headDim + half + i] = c;
                sin[p * headDim + i] = -s; // rotate_half puts -x2 in the first half
                sin[p * headDim + half + i] = s;
            }
        }
        Shape shape = new Shape(count, headDim);
        return new Tables(manager.create(cos, shape), manager.create(sin, shape), half);
    }

    /**
     * Rotates each head of {@code x} (heads of {@code headDim} floats from offset 0) to position {@code position},
     * with the same fp32 angles and products as {@link Tables#apply}.
     */
    void rotate(float[] x, int heads, int position) {
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            float angle = position * inverseFrequencies[i];
            float c = (float) Math.cos(angle);
            float s = (float) Math.sin(angle);
            for (int h = 0; h < heads; h++) {
                int a = h * headDim + i;
                float x1 = x[a];
                float x2 = x[a + half];
                x[a] = x1 * c + x2 * -s;
                x[a + half] = x2 * c + x1 * s;
            }
        }
    }

    record Tables(NDArray cos, NDArray signedSin, int half) {
        /** x[..., seq, headDim] * cos + swap_halves(x) * signedSin. */
        NDArray apply(NDArray x) {
            // the halves swapped by one flip of a [..., 2, half] view: one copy forward and one backward, where
            // slicing and concatenating costs a copy forward and two zero-filled copies plus an add backward
            Shape shape = x.getShape();
            long[] pairs = new long[shape.dimension() + 1];
            for (int i = 0; i < shape.dimension() - 1; i++) pairs[i] = shape.get(i);
            pairs[pairs.length - 2] = 2;
            pairs[pairs.length - 1] = half;
            NDArray swapped = x.reshape(new Shape(pairs)).flip(pairs.length - 2).reshape(shape);
            return x.mul(cos).add(swapped.mul(signedSin));
        }

        /** These tables times {@code factor}: a rotation that also scales (queries by 1/sqrt(headDim), sparing a pass over the scores). */
        Tables scaled(NDArray factor) {
            return new Tables(cos.mul(factor), signedSin.mul(factor), half);
        }
    }
}
