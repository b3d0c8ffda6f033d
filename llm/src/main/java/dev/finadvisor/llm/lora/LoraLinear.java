package dev.finadvisor.llm.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finadvisor.llm.EngineMemory;
import java.util.SplittableRandom;
import dev.finadvisor.llm.model.Linear;
import dev.finadvisor.llm.model.LowRankLinear;

/**
 * A frozen linear layer plus a trainable low-rank update (Hu et al. 2021), exactly as PEFT's
 * {@code lora.Linear}: {@code y = base(x) + dropout(x) A^T B^T * scale}. A starts as PEFT's
 * {@code kaiming_uniform_(a=sqrt(5))}, i.e. uniform in +-1/sqrt(in), and B as zero, so training
 * starts from the base model's function. Only A and B require gradients: the base holds no
 * gradient memory. The scale is a live tensor, never a scalar op, so autograd sees its true value.
 */
public final class LoraLinear implements LowRankLinear, AutoCloseable {
    private final Linear base;
    private final int in;
    private final int out;
    private final int r;
    private final double scale;
    private final float dropout;
    private final NDManager manager;
    private final NDArray a;
    private final NDArray b;
    private final NDArray scaleTensor;
    /** {@code -Dfinadvisor.dropout=engine} when the layer was made: libtorch's dropout instead of {@link DropoutMask}'s. */
    private final boolean engineDropout = "engine".equals(System.getProperty("finadvisor.dropout"));
    private boolean training = true;
    /** Dropout masks are functions of this seed (see {@link #seedDropout}) and how many were drawn since. */
    private long dropoutSeed;
    private long masksDrawn;

    /**
     * @param base  the frozen projection (dense or NF4), {@code [.., in] -> [.., out]}
     * @param r     the rank
     * @param scale alpha / r (or alpha / sqrt(r) for rsLoRA)
     * @param seed  seeds A's initialisation (derive it from the run seed and the module path)
     * @param dtype FLOAT32 for training; FLOAT64 for exact gradient checks
     */
    public LoraLinear(Linear base, int r, double scale, double dropout, long seed, NDManager parent, DataType dtype) {
        this.base = base;
        this.in = base.inFeatures();
        this.out = base.outFeatures();
        this.r = r;
        this.scale = scale;
        this.dropout = (float) dropout;
        this.manager = parent.newSubManager();
        this.dropoutSeed = seed; // until seedDropout: layers made with different seeds draw different masks
        double bound = 1.0 / Math.sqrt(this.in); // kaiming_uniform(a=sqrt(5)): gain sqrt(2/6) * sqrt(3/fan_in)
        SplittableRandom random = new SplittableRandom(seed);
        double[] init = new double[r * this.in];
        for (int i = 0; i < init.length; i++) init[i] = random.nextDouble(-bound, bound);
        this.a = manager.create(init, new Shape(r, this.in)).toType(dtype, false);
        this.b = manager.zeros(new Shape(this.out, r), dtype);
        this.scaleTensor = manager.create(scale).toType(dtype, false);
        a.setRequiresGradient(true);
        b.setRequiresGradient(true);
    }

    /** The forward pass; the result lives in {@code x}'s manager (the caller's step scope). */
    @Override
    public NDArray apply(NDArray x) {
        NDArray y = base.apply(x);
        NDArray h = training && dropout > 0 ? dropout(x) : x;
        NDArray low = Linear.project(h, a, null).mul(scaleTensor); // scale on the r-wide path: cheaper than on out
        return y.add(Linear.project(low, b, null));
    }

    /** x times a dropout mask drawn in Java ({@link DropoutMask}); the engine's own dropout where that cannot run. */
    private NDArray dropout(NDArray x) {
        NDArray mask = engineDropout ? null : DropoutMask.draw(x, dropout, DropoutMask.mix(dropoutSeed, masksDrawn++));
        return mask != null ? x.mul(mask) : x.getNDArrayInternal().dropout(x, dropout, true).singletonOrThrow();
    }

    /**
     * Makes the dropout masks from here on a function of {@code seed}: the trainer seeds every step, so
     * a resumed run draws the masks the uninterrupted one did.
     */
    public void seedDropout(long seed) {
        dropoutSeed = seed;
        masksDrawn = 0;
    }

    /** How many dropout masks this layer has drawn since {@link #seedDropout}: with {@link #rewindDropout}, a recomputation draws the same ones. */
    public long dropoutDraws() {
        return masksDrawn;
    }

    /**
     * Makes the next mask the one drawn after {@code draws} masks, as a recomputation of an earlier forward needs
     * (gradient checkpointing); libtorch's masks ({@code -Dfinadvisor.dropout=engine}) cannot be drawn again.
     */
    public void rewindDropout(long draws) {
        if (engineDropout && dropout > 0) {
            throw new IllegalStateException("libtorch's dropout masks (-Dfinadvisor.dropout=engine) cannot be drawn again for a recomputation");
        }
        masksDrawn = draws;
    }

    /**
     * Serving only: the factors stop asking for gradients, so engine passes through them record no autograd graph
     * (which cost a served adapter's prefill a third of its time and the memory of its activations).
     */
    public void freeze() {
        a.setRequiresGradient(false);
        b.setRequiresGradient(false);
    }

    /** Training switches dropout on; evaluation and generation switch it off. */
    public void setTraining(boolean training) {
        this.training = training;
    }

    /** The trainable [r, in] factor. */
    @Override
    public NDArray a() {
        return a;
    }

    /** The trainable [out, r] factor. */
    @Override
    public NDArray b() {
        return b;
    }

    @Override
    public int inFeatures() {
        return in;
    }

    @Override
    public int outFeatures() {
        return out;
    }

    /** The frozen layer under the update. */
    @Override
    public Linear base() {
        return base;
    }

    public int rank() {
        return r;
    }

    @Override
    public double scale() {
        return scale;
    }

    /** A copy of the factors as fp32 arrays, for an adapter file. */
    public LoraWeights weights() {
        return new LoraWeights(r, in, out, a.toType(DataType.FLOAT32, false).toFloatArray(),
                b.toType(DataType.FLOAT32, false).toFloatArray());
    }

    /** Replaces the factors with an adapter's (their shapes must match this layer). */
    public void load(LoraWeights w) {
        if (w.r() != r || w.in() != in || w.out() != out) {
            throw new IllegalArgumentException("adapter factors of rank " + w.r() + " for " + w.in() + " -> " + w.out()
                    + " do not fit a rank-" + r + " LoRA on " + in + " -> " + out);
        }
        if (a.getDataType() == DataType.FLOAT32) {
            EngineMemory.write(a, w.a());
            EngineMemory.write(b, w.b());
            return;
        }
        try (NDManager scope = manager.newSubManager()) { // fp64 (gradient checks): converted by the engine
            a.set(scope.create(w.a(), new Shape(r, in)).toType(a.getDataType(), false).toByteBuffer());
            b.set(scope.create(w.b(), new Shape(out, r)).toType(b.getDataType(), false).toByteBuffer());
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
