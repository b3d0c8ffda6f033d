package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.EngineMemory;
import java.nio.ByteBuffer;

/**
 * Keys and values of every layer for the positions seen so far, in buffers allocated once for
 * {@code capacity} positions ({@code [batch, kvHeads, capacity, headDim]}) and written in place, so
 * a decode step copies one position, not the whole history.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private final int capacity;
    private final int batch;
    private final ByteBuffer[] keyBuffers;
    private final ByteBuffer[] valueBuffers;
    private int length;
    private boolean closed;
    /** The adapter its sequence is generated with (0: the base model alone), see {@link AdapterLinear}. */
    private int adapter;
    /** Whether one layer's keys (or values) fit a Java buffer (2 GiB), so {@link JavaDecode} can read them in place. */
    private final boolean javaAddressable;

    KvCache(NDManager parent, int layers, int batch, int kvHeads, int capacity, int headDim) {
        this.manager = parent.newSubManager();
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        this.capacity = capacity;
        this.batch = batch;
        this.keyBuffers = new ByteBuffer[layers];
        this.valueBuffers = new ByteBuffer[layers];
        Shape shape = new Shape(batch, kvHeads, capacity, headDim);
        this.javaAddressable = layerBytes(batch, kvHeads, capacity, headDim) <= Integer.MAX_VALUE;
        for (int i = 0; i < layers; i++) {
            keys[i] = manager.zeros(shape, DataType.FLOAT32);
            values[i] = manager.zeros(shape, DataType.FLOAT32);
        }
    }

    /** Bytes of fp32 keys and values a batch-1 cache of {@code positions} holds for {@code config}'s model. */
    public static long bytes(ModelConfig config, int positions) {
        return 2L * config.numLayers() * layerBytes(1, config.numKvHeads(), positions, config.headDim());
    }

    /** Bytes of one layer's keys (or values) in fp32. */
    static long layerBytes(int batch, int kvHeads, int capacity, int headDim) {
        return 4L * batch * kvHeads * capacity * headDim;
    }

    /**
     * Whether {@link JavaDecode} can decode over this cache: a layer above 2 GiB (a long context of a wide model) is not
     * addressable by a Java buffer, and decoding stays on the engine.
     */
    boolean javaAddressable() {
        return javaAddressable;
    }

    private void requireOpen() {
        if (closed) throw new IllegalStateException("the KV cache is closed: its memory is freed");
    }

    /** Positions already cached. */
    public int length() {
        return length;
    }

    /** The adapter its sequence is generated with (0: none). */
    public int adapter() {
        return adapter;
    }

    /** Generates its sequence with adapter {@code adapter} of the model's {@link AdapterLinear}s (0: none). */
    public KvCache useAdapter(int adapter) {
        this.adapter = adapter;
        return this;
    }

    public int batch() {
        return batch;
    }

    public int capacity() {
        return capacity;
    }

    void checkRoom(int newPositions) {
        if (length + newPositions > capacity) {
            throw new UserError("the sequence would reach " + (length + newPositions) + " positions but the cache holds "
                    + capacity + "; lower max_new_tokens or shorten the prompt");
        }
    }

    /**
     * Stores layer {@code layer}'s keys and values for the new positions ({@code [batch, kvHeads, s, headDim]})
     * and returns views of all cached positions, owned by k's manager: a generation pass's layer frees them, and what
     * attention derives from them (a multi-query model's keys repeated for every head), with its other intermediates.
     */
    NDArray[] append(int layer, NDArray k, NDArray v) {
        requireOpen();
        NDManager scope = k.getManager();
        long s = k.getShape().get(2);
        NDIndex fresh = new NDIndex(":, :, {}:{}", length, length + s);
        keys[layer].set(fresh, k);
        values[layer].set(fresh, v);
        NDIndex all = new NDIndex(":, :, :{}", length + s);
        return new NDArray[] {keys[layer].get(scope, all), values[layer].get(scope, all)};
    }

    /**
     * Layer {@code layer}'s keys ({@code values == false}) or values as a direct buffer over the cache's own memory
     * ({@code [batch, kvHeads, capacity, headDim]} fp32), for {@link JavaDecode}; valid while the cache is open.
     */
    ByteBuffer buffer(int layer, boolean values) {
        requireOpen();
        if (!javaAddressable) throw new IllegalStateException("a layer of this KV cache is over 2 GiB: decode it on the engine");
        ByteBuffer[] cached = values ? valueBuffers : keyBuffers;
        if (cached[layer] == null) cached[layer] = EngineMemory.floats(values ? this.values[layer] : keys[layer]);
        return cached[layer];
    }

    /** Called once per forward pass after every layer appended. */
    void advance(int positions) {
        length += positions;
    }

    @Override
    public void close() {
        closed = true;
        java.util.Arrays.fill(keyBuffers, null);
        java.util.Arrays.fill(valueBuffers, null);
        manager.close();
    }
}
