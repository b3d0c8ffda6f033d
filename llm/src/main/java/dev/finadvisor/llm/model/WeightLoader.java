package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.lowbit.Packer;
import dev.finadvisor.llm.lowbit.PackedWeight;
import dev.finadvisor.llm.lowbit.WeightFormat;
import dev.finadvisor.llm.safetensors.Dtype;
import dev.finadvisor.llm.safetensors.SafetensorsShards;
import dev.finadvisor.llm.safetensors.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Takes named tensors out of a checkpoint, checking each shape against what the config implies. */
final class WeightLoader {
    private final Path dir;
    private final SafetensorsShards weights;
    private final NDManager manager;
    private final ProjectionLoader projections;
    /** How projections are held: fp32 engine tensors (through {@link #projections}) or packed in Java memory. */
    private final WeightFormat format;
    private final Packer packer;
    private final PackedLinear.Scratch packedScratch;
    /** Where the fp32 weight of each projection the {@link ProjectionLoader} replaces is read (see {@link #projection}). */
    private ByteBuffer scratch;
    final Map<String, NDArray> loaded = new LinkedHashMap<>();

    WeightLoader(Path dir, SafetensorsShards weights, NDManager manager, ProjectionLoader projections, WeightFormat format, Packer packer) {
        if (format.packed() && projections != ProjectionLoader.DENSE) {
            throw new IllegalArgumentException("a projection loader works on fp32 layers, not " + format.id() + " ones");
        }
        this.dir = dir;
        this.weights = weights;
        this.manager = manager;
        this.projections = projections;
        this.format = format;
        this.packer = packer;
        this.packedScratch = new PackedLinear.Scratch(manager);
    }

    boolean has(String name) {
        return weights.contains(name);
    }

    NDArray take(String name, long... shape) {
        check(name, shape);
        NDArray a = weights.toNDArray(manager, name);
        a.setName(name);
        loaded.put(name, a);
        return a;
    }

    private void check(String name, long... shape) {
        if (!weights.contains(name)) {
            throw new UserError(dir + ": the checkpoint lacks tensor '" + name + "' that config.json implies; "
                    + "is config.json from the same model as the weights?");
        }
        TensorInfo info = weights.info(name);
        if (!Arrays.equals(info.shape(), shape)) {
            throw new UserError(dir + ": tensor '" + name + "' has shape " + Arrays.toString(info.shape())
                    + " but config.json implies " + Arrays.toString(shape));
        }
        if (!info.dtype().isFloat()) throw new UserError(dir + ": tensor '" + name + "' is " + info.dtype() + ", not a float tensor");
    }

    /** The linear at {@code path}: {@code path.weight [out, in]}, with {@code path.bias [out]} if the checkpoint has one. */
    DenseLinear linear(String path, long out, long in) {
        NDArray w = take(path + ".weight", out, in);
        NDArray b = has(path + ".bias") ? take(path + ".bias", out) : null;
        return new DenseLinear(w, b);
    }

    /**
     * The token embedding table: fp32, packed like the projections (then it is not a model parameter), or, beside a
     * projection loader (QLoRA), packed in bf16 when the checkpoint holds it so.
     */
    TokenEmbedding embedding(String name, long vocab, long hidden) {
        if (!format.packed() && !keepsBf16(name)) return new TokenEmbedding.Engine(take(name, vocab, hidden));
        check(name, vocab, hidden);
        return new TokenEmbedding.Packed(packer.pack(weights, name, format.packed() ? format : WeightFormat.BF16, dir));
    }

    /**
     * Whether a frozen matrix the projection loader does not replace (the embedding, an untied head) stays in the
     * checkpoint's bf16, as QLoRA (bitsandbytes) keeps it: Falcon-7B's tied table takes 0.6 GB instead of 1.2.
     */
    private boolean keepsBf16(String name) {
        return projections != ProjectionLoader.DENSE && weights.contains(name) && weights.info(name).dtype() == Dtype.BF16;
    }

    /** The output head tied to {@code embedding}: the same table. */
    Linear tiedHead(TokenEmbedding embedding) {
        return embedding.asHead(packedScratch);
    }

    /** The output head: as {@link #linear} loads it, or packed like the decoder's projections. */
    Linear head(String path, long out, long in) {
        if (keepsBf16(path + ".weight")) return packed(path, out, in, WeightFormat.BF16);
        return format.packed() ? packed(path, out, in, format) : linear(path, out, in);
    }

    private PackedLinear packed(String path, long out, long in, WeightFormat format) {
        check(path + ".weight", out, in);
        PackedWeight packed = packer.pack(weights, path + ".weight", format, dir);
        return new PackedLinear(packed, has(path + ".bias") ? take(path + ".bias", out) : null, packedScratch);
    }

    /**
     * A decoder projection, packed when the format is, else as {@link #linear} loads it, or as the {@link ProjectionLoader} makes it from the fp32
     * layer: then the weight is read into one buffer reused for every projection (the engine tensor shares a direct
     * buffer's memory, which only the garbage collector would free), so the fp32 weights held at once are one
     * projection's; the loader must replace the layer, and the weight is not a parameter of the model.
     */
    Linear projection(String path, long out, long in) {
        if (format.packed()) return packed(path, out, in, format);
        if (projections == ProjectionLoader.DENSE) return linear(path, out, in);
        String name = path + ".weight";
        check(name, out, in);
        long bytes = 4 * out * in;
        NDArray w;
        if (bytes > Integer.MAX_VALUE) {
            w = weights.toNDArray(manager, name); // too big for one buffer: freed when collected
        } else {
            if (scratch == null || scratch.capacity() < bytes) scratch = ByteBuffer.allocateDirect((int) bytes);
            ByteBuffer view = scratch.slice(0, (int) bytes).order(ByteOrder.nativeOrder());
            weights.readFloats(name, view.asFloatBuffer());
            w = manager.create(view, new Shape(out, in), DataType.FLOAT32);
        }
        DenseLinear dense = new DenseLinear(w, has(path + ".bias") ? take(path + ".bias", out) : null);
        Linear made = projections.load(path, dense);
        if (made == dense) throw new IllegalStateException("the projection loader kept " + path + " in fp32; its memory is reused");
        w.close();
        return made;
    }
}
