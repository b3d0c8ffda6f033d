package dev.finadvisor.llm.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.finadvisor.llm.EngineMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dropout masks drawn in Java for CPU tensors: each element {@code 1/(1-p)} with probability
 * {@code 1-p}, else 0, as {@code torch.nn.functional.dropout} scales them. libtorch's CPU bernoulli
 * draws one element at a time on one thread on AMD CPUs (its MKL path is Intel-only): with LoRA
 * dropout on every targeted input that was 0.1-0.3 of a training step. Here element i's 32 random
 * bits are a hash of (seed, i) (a counter-based generator: Wellons' lowbias32 over a keyed odd
 * multiple of i), so the SIMD loop and the scalar one give the same mask.
 */
final class DropoutMask {
    private DropoutMask() {}

    /**
     * A mask of {@code x}'s shape and type in {@code x}'s manager, or null where it cannot be drawn
     * here (not a CPU tensor, or over 2 GiB as fp32): the caller then uses the engine's dropout.
     */
    static NDArray draw(NDArray x, double p, long seed) {
        if (x.size() * 4 > Integer.MAX_VALUE) return null;
        NDArray mask = x.getManager().create(x.getShape(), DataType.FLOAT32);
        ByteBuffer memory = EngineMemory.floats(mask); // null on another device
        if (memory == null) {
            mask.close();
            return null;
        }
        fill(memory, Math.toIntExact(x.size()), p, seed);
        if (x.getDataType() == DataType.FLOAT32) return mask;
        NDArray typed = mask.toType(x.getDataType(), false);
        mask.close();
        return typed;
    }

    /** Fills n fp32 values of {@code memory} (native order): element i kept (1/(1-p)) unless bits(seed, i) < p * 2^32. */
    static void fill(ByteBuffer memory, int n, double p, long seed) {
        int dropBelow = (int) Math.round(p * 4294967296.0) ^ Integer.MIN_VALUE; // unsigned order as signed
        float kept = 1f / (float) (1.0 - p); // torch: bernoulli(1-p), then divided by (1-p) in fp32
        long key = mix(seed, 0);
        int keyA = (int) key;
        int keyB = (int) (key >>> 32);
        int i = EngineMemory.VECTOR_API ? Simd.fill(memory, n, dropBelow, kept, keyA, keyB) : 0;
        for (; i < n; i++) memory.putFloat(i * 4, (bits(i, keyA, keyB) ^ Integer.MIN_VALUE) < dropBelow ? 0f : kept);
    }

    /** Element i's 32 random bits. */
    static int bits(int i, int keyA, int keyB) {
        int x = (i ^ keyA) * 0x9E3779B9 + keyB;
        x ^= x >>> 16;
        x *= 0x7feb352d;
        x ^= x >>> 15;
        x *= 0x846ca68b;
        return x ^ (x >>> 16);
    }

    /** A well-mixed 64-bit function of two values (SplitMix64's finaliser over a + b * golden ratio). */
    static long mix(long a, long b) {
        long z = a + b * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The same loop in Vector API lanes; loaded only when the module is present. */
    private static final class Simd {
        private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

        /** Fills whole vectors from 0 and returns where the scalar tail starts. */
        static int fill(ByteBuffer memory, int n, int dropBelow, float kept, int keyA, int keyB) {
            ByteOrder order = ByteOrder.nativeOrder();
            IntVector lanes = IntVector.zero(I).addIndex(1);
            FloatVector keep = FloatVector.broadcast(F, kept);
            FloatVector drop = FloatVector.zero(F);
            int step = I.length();
            if (F.length() != step) return 0; // int and float lanes pair up one to one
            int i = 0;
            for (; i + step <= n; i += step) {
                IntVector x = lanes.add(i).lanewise(VectorOperators.XOR, keyA).mul(0x9E3779B9).add(keyB);
                x = x.lanewise(VectorOperators.XOR, x.lanewise(VectorOperators.LSHR, 16)).mul(0x7feb352d);
                x = x.lanewise(VectorOperators.XOR, x.lanewise(VectorOperators.LSHR, 15)).mul(0x846ca68b);
                x = x.lanewise(VectorOperators.XOR, x.lanewise(VectorOperators.LSHR, 16));
                VectorMask<Integer> dropped = x.lanewise(VectorOperators.XOR, Integer.MIN_VALUE).compare(VectorOperators.LT, dropBelow);
                keep.blend(drop, dropped.cast(F)).intoByteBuffer(memory, i * 4, order);
            }
            return i;
        }
    }
}
