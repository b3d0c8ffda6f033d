package dev.finadvisor.inference;

import java.util.List;

/**
 * What {@code serve} offers: one chain per served model (the base alone, each adapter), all on one generator and
 * decoded in the same batches; the first is the default. Closing closes the shared generator.
 */
public final class ServedModels implements AutoCloseable {
    private final List<AdviceChain> chains;
    private final AutoCloseable shared;

    /** {@code shared}: what the chains share and this closes (the generator; null: the chains own theirs). */
    public ServedModels(List<AdviceChain> chains, AutoCloseable shared) {
        if (chains.isEmpty()) throw new IllegalArgumentException("serve at least one model");
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (AdviceChain c : chains) {
            if (!seen.add(c.servedModelName())) {
                throw new dev.finadvisor.domain.UserError("two served models are named '" + c.servedModelName()
                        + "': give each --adapter its own NAME= (and none the base model's name)");
            }
        }
        this.chains = List.copyOf(chains);
        this.shared = shared;
    }

    /** One chain that owns its generator. */
    public static ServedModels of(AdviceChain chain) {
        return new ServedModels(List.of(chain), null);
    }

    public AdviceChain byDefault() {
        return chains.get(0);
    }

    public List<AdviceChain> all() {
        return chains;
    }

    /** The chain clients call {@code name} (its served name, or the base model's id for the base alone); null if none. */
    public AdviceChain find(String name) {
        for (AdviceChain c : chains) if (c.servedModelName().equals(name)) return c;
        for (AdviceChain c : chains) if (c.adapterId() == null && c.modelId().equals(name)) return c;
        return chains.size() == 1 && byDefault().modelId().equals(name) ? byDefault() : null; // one model: its base's id names it too
    }

    /** The served names, for error messages. */
    public List<String> names() {
        return chains.stream().map(AdviceChain::servedModelName).toList();
    }

    @Override
    public void close() throws Exception {
        for (AdviceChain c : chains) c.close();
        if (shared != null) shared.close();
    }
}
