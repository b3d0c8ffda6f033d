package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.safetensors.SafetensorsShards;
import dev.finadvisor.llm.safetensors.TensorInfo;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Takes named tensors out of a checkpoint, checking each shape against what the config implies. */
final class WeightLoader {
    private final Path dir;
    private final SafetensorsShards weights;
    private final NDManager manager;
    final Map<String, NDArray> loaded = new LinkedHashMap<>();

    WeightLoader(Path dir, SafetensorsShards weights, NDManager manager) {
        this.dir = dir;
        this.weights = weights;
        this.manager = manager;
    }

    boolean has(String name) {
        return weights.contains(name);
    }

    NDArray take(String name, long... shape) {
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
        NDArray a = weights.toNDArray(manager, name);
        a.setName(name);
        loaded.put(name, a);
        return a;
    }

    /** The linear at {@code path}: {@code path.weight [out, in]}, with {@code path.bias [out]} if the checkpoint has one. */
    DenseLinear linear(String path, long out, long in) {
        NDArray w = take(path + ".weight", out, in);
        NDArray b = has(path + ".bias") ? take(path + ".bias", out) : null;
        return new DenseLinear(w, b);
    }
}
