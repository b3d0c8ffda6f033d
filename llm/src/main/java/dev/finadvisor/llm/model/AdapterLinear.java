package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;

/**
 * A base projection with several LoRA updates beside it, one per served adapter (adapter 1..n; 0 is the base alone),
 * none merged: many adapters on one copy of the base weights. Engine passes apply the {@link #select selected} one
 * (a forward pass selects its cache's adapter, see {@link CausalLM#forward(NDArray, KvCache, boolean)}); the Java
 * decoder applies each sequence's own within one batch.
 */
public final class AdapterLinear implements Linear {
    private final Linear base;
    private final LowRankLinear[] updates;
    private volatile int selected;

    /** {@code updates[i]} is adapter i's update of {@code base} (index 0 unused; null: that adapter leaves it alone). */
    public AdapterLinear(Linear base, LowRankLinear[] updates) {
        for (LowRankLinear u : updates) {
            if (u != null && u.base() != base) throw new IllegalArgumentException("every update must wrap the same base projection");
        }
        this.base = base;
        this.updates = updates.clone();
    }

    public Linear base() {
        return base;
    }

    /** Adapters this projection was built for (the highest index). */
    public int adapters() {
        return updates.length - 1;
    }

    /** Adapter {@code adapter}'s update, or null (the base alone: adapter 0, or one that does not target this module). */
    public LowRankLinear update(int adapter) {
        return adapter > 0 && adapter < updates.length ? updates[adapter] : null;
    }

    /** The adapter engine passes apply from now on. */
    public void select(int adapter) {
        selected = adapter;
    }

    @Override
    public NDArray apply(NDArray x) {
        LowRankLinear u = update(selected);
        return u == null ? base.apply(x) : u.apply(x);
    }

    @Override
    public int inFeatures() {
        return base.inFeatures();
    }

    @Override
    public int outFeatures() {
        return base.outFeatures();
    }
}
