package dev.finadvisor.llm.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.finadvisor.domain.UserError;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import dev.finadvisor.llm.model.AdapterLinear;
import dev.finadvisor.llm.model.CausalLM;
import dev.finadvisor.llm.model.LowRankLinear;
import dev.finadvisor.llm.model.Linear;

/**
 * The LoRA layers of one model, by Hugging Face module path: creates them for the targeted
 * linears, names their trainable tensors as PEFT does, and converts to and from a {@link PeftAdapter}.
 */
public final class LoraLayers implements AutoCloseable {
    private final LoraConfig config;
    private final Map<String, LoraLinear> layers;
    /** The model the layers are installed in by {@link #attach} or {@link #apply}, until {@link #detach}. */
    private CausalLM installed;

    private LoraLayers(LoraConfig config, Map<String, LoraLinear> layers) {
        this.config = config;
        this.layers = Collections.unmodifiableMap(layers);
    }

    /**
     * Wraps every linear of {@code linears} (path -> target, in model order) that {@code config}
     * targets; none matching is an error listing the module names the model has.
     */
    public static LoraLayers create(LoraConfig config, Map<String, Linear> linears, long seed, NDManager manager) {
        Map<String, LoraLinear> layers = new LinkedHashMap<>();
        for (Map.Entry<String, Linear> e : linears.entrySet()) {
            if (!config.targets(e.getKey())) continue;
            long moduleSeed = seed * 0x9E3779B97F4A7C15L + e.getKey().hashCode(); // independent of which other modules are targeted
            layers.put(e.getKey(), new LoraLinear(e.getValue(), config.r(), config.scale(), config.dropout(),
                    moduleSeed, manager, DataType.FLOAT32));
        }
        if (layers.isEmpty()) {
            TreeMap<String, Boolean> names = new TreeMap<>();
            for (String path : linears.keySet()) names.put(path.substring(path.lastIndexOf('.') + 1), true);
            throw new UserError("lora.target_modules " + config.targetModules() + " matches no linear layer of the model; its linear layers are named "
                    + names.keySet());
        }
        LoraConfig named = config;
        if (config.targetModules().equals(List.of(LoraConfig.ALL_LINEAR))) { // the adapter names what it adapts, as PEFT saves it
            TreeSet<String> names = new TreeSet<>();
            for (String path : layers.keySet()) names.add(path.substring(path.lastIndexOf('.') + 1));
            named = config.withTargets(List.copyOf(names));
        }
        return new LoraLayers(named, layers);
    }

    /** The lowest decoder layer of {@code model} with a LoRA linear (nothing below it needs a gradient); MAX_VALUE if none. */
    public static int firstLayerWithLora(CausalLM model) {
        int first = Integer.MAX_VALUE;
        for (Map.Entry<String, Linear> e : model.linears().entrySet()) {
            int layer = CausalLM.layerOf(e.getKey());
            if (e.getValue() instanceof LoraLinear && layer >= 0) first = Math.min(first, layer); // the head is above them all
        }
        return first;
    }

    /** Wraps the targeted linears of {@code model} and puts the LoRA layers in their place. */
    public static LoraLayers attach(LoraConfig config, CausalLM model, long seed) {
        LoraLayers lora = create(config, model.linears(), seed, model.manager());
        lora.layers.forEach(model::replaceLinear);
        lora.installed = model;
        return lora;
    }

    /**
     * Applies a trained adapter to {@code model} for inference: exactly the adapter's modules get its
     * factors (dropout off, frozen); a module the model lacks, or of another shape, is an error naming it.
     */
    public static LoraLayers apply(PeftAdapter adapter, CausalLM model) {
        Map<String, LoraLinear> layers = frozen(adapter, "the adapter", model);
        layers.forEach(model::replaceLinear);
        LoraLayers lora = new LoraLayers(adapter.config(), layers);
        lora.installed = model;
        return lora;
    }

    /**
     * Serves several trained adapters on one base, none merged: each module any of them targets becomes an
     * {@link AdapterLinear} with adapter i's update at index i + 1 (index 0 is the base alone). Each adapter is checked
     * against the model as {@link #apply} checks one.
     */
    public static void applyAll(List<PeftAdapter> adapters, CausalLM model) {
        Map<String, Linear> linears = model.linears();
        Map<String, LowRankLinear[]> updates = new LinkedHashMap<>();
        try {
            for (int i = 0; i < adapters.size(); i++) {
                int index = i + 1;
                frozen(adapters.get(i), "adapter " + index, model)
                        .forEach((path, l) -> updates.computeIfAbsent(path, k -> new LowRankLinear[adapters.size() + 1])[index] = l);
            }
        } catch (RuntimeException e) {
            for (LowRankLinear[] made : updates.values()) for (LowRankLinear l : made) if (l != null) ((LoraLinear) l).close();
            throw e;
        }
        updates.forEach((path, u) -> model.replaceLinear(path, new AdapterLinear(linears.get(path), u)));
    }

    /**
     * The adapter's updates of {@code model}'s linears for serving (loaded, dropout off, factors frozen), not yet
     * installed; a module the model lacks, or of another shape, is an error naming {@code who} and the module.
     */
    private static Map<String, LoraLinear> frozen(PeftAdapter adapter, String who, CausalLM model) {
        Map<String, Linear> linears = model.linears();
        Map<String, LoraLinear> layers = new LinkedHashMap<>();
        LoraConfig c = adapter.config();
        for (Map.Entry<String, LoraWeights> e : adapter.modules().entrySet()) {
            Linear base = linears.get(e.getKey());
            LoraWeights w = e.getValue();
            if (base == null || base.inFeatures() != w.in() || base.outFeatures() != w.out()) {
                layers.values().forEach(LoraLinear::close);
                throw new UserError(who + "'s module " + e.getKey() + " [" + w.out() + " x " + w.in() + "] "
                        + (base == null ? "does not exist in this model" : "does not match the model's [" + base.outFeatures() + " x " + base.inFeatures() + "]")
                        + "; was the adapter trained on " + c.baseModel() + "?");
            }
            LoraLinear l = new LoraLinear(base, c.r(), c.scale(), 0.0, 0, model.manager(), DataType.FLOAT32);
            l.load(w);
            l.setTraining(false);
            l.freeze();
            layers.put(e.getKey(), l);
        }
        return layers;
    }

    /** Puts the frozen base layers back into {@code model} (e.g. to compare against the base model). */
    public void detach(CausalLM model) {
        layers.forEach((path, l) -> model.replaceLinear(path, l.base()));
        if (installed == model) installed = null;
    }

    public LoraConfig config() {
        return config;
    }

    /** The layers by module path, in model order. */
    public Map<String, LoraLinear> layers() {
        return layers;
    }

    /** Trainable tensors named as in PEFT's state dict without its prefix: {@code <path>.lora_A.weight}, {@code <path>.lora_B.weight}. */
    public Map<String, NDArray> parameters() {
        Map<String, NDArray> params = new LinkedHashMap<>();
        layers.forEach((path, l) -> {
            params.put(path + ".lora_A.weight", l.a());
            params.put(path + ".lora_B.weight", l.b());
        });
        return params;
    }

    /** How many numbers are trained. */
    public long trainableParameters() {
        long n = 0;
        for (LoraLinear l : layers.values()) n += (long) l.rank() * (l.inFeatures() + l.outFeatures());
        return n;
    }

    public void setTraining(boolean training) {
        layers.values().forEach(l -> l.setTraining(training));
    }

    /** Seeds every layer's dropout masks ({@link LoraLinear#seedDropout}) from {@code seed} and the layer's path. */
    public void seedDropout(long seed) {
        layers.forEach((path, l) -> l.seedDropout(DropoutMask.mix(seed, path.hashCode())));
    }

    /**
     * Writes the current factors as a PEFT adapter folder straight from their tensors' memory, with no copy on the heap
     * (a checkpoint of a 7B model's factors: 160 MB that the heap would have grown by, beside the engine's training memory).
     */
    public void writeAdapter(Path dir) throws IOException {
        PeftAdapter.write(dir, config, writer -> new TreeMap<>(layers).forEach((path, l) -> { // in PeftAdapter's order: the same file
            if (l.a().getDataType() != DataType.FLOAT32 || l.b().getDataType() != DataType.FLOAT32) {
                throw new IllegalStateException("LoRA factors of " + path + " are " + l.a().getDataType() + ", an adapter holds FLOAT32");
            }
            writer.add(PeftAdapter.tensorName(path, "A"), l.a());
            writer.add(PeftAdapter.tensorName(path, "B"), l.b());
        }));
    }

    /** The current factors as an adapter. */
    public PeftAdapter toAdapter() {
        Map<String, LoraWeights> modules = new LinkedHashMap<>();
        layers.forEach((path, l) -> modules.put(path, l.weights()));
        return new PeftAdapter(config, modules);
    }

    /** Loads an adapter's factors; it must hold exactly these modules with matching shapes. */
    public void load(PeftAdapter adapter) {
        if (!adapter.modules().keySet().equals(new TreeMap<>(layers).keySet())) {
            throw new UserError("the adapter holds modules " + adapter.modules().keySet() + " but this model's LoRA layers are " + new TreeMap<>(layers).keySet());
        }
        layers.forEach((path, l) -> l.load(adapter.modules().get(path)));
    }

    /**
     * Frees the factors; layers still installed in a model are taken out first (the base layers go back), so the model
     * never computes with freed memory (its Java decoder reads the factors in place).
     */
    @Override
    public void close() {
        if (installed != null) detach(installed);
        layers.values().forEach(LoraLinear::close);
    }
}
