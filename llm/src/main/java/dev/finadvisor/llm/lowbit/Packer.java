package dev.finadvisor.llm.lowbit;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.safetensors.SafetensorsShards;
import dev.finadvisor.llm.safetensors.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * Reads 2-D weights from a checkpoint straight into a {@link PackedWeight}: a slab of rows at a time as raw bytes into
 * one reused buffer, each slab converted and packed on every core, so a model is never whole in fp32 and loading
 * is not bound to one thread. A value that is not finite stops loading, naming the tensor and its position.
 */
public final class Packer implements AutoCloseable {
    private static final long SLAB_BYTES = 32L << 20;

    private final ForkJoinPool pool;
    private final int threads;
    /** One model's packed matrices share its chunks. */
    private final PackedArena arena = new PackedArena();
    private ByteBuffer raw;

    public Packer(int threads) {
        this.threads = Math.max(1, threads);
        this.pool = new ForkJoinPool(this.threads);
    }

    /** Tensor {@code name} of {@code weights} ({@code [rows, cols]}, a float dtype) packed as {@code format}; {@code where} names the checkpoint in errors. */
    public PackedWeight pack(SafetensorsShards weights, String name, WeightFormat format, Object where) {
        TensorInfo t = weights.info(name);
        if (t.shape().length != 2) throw new IllegalArgumentException(name + " is not a matrix: " + java.util.Arrays.toString(t.shape()));
        int rows = Math.toIntExact(t.shape()[0]);
        int cols = Math.toIntExact(t.shape()[1]);
        int width = t.dtype().bytes();
        long rowBytes = (long) cols * width;
        int slabRows = (int) Math.max(1, Math.min(rows, SLAB_BYTES / rowBytes));
        if (raw == null || raw.capacity() < slabRows * rowBytes) raw = ByteBuffer.allocateDirect(Math.toIntExact(slabRows * rowBytes));
        PackedWeight packed = PackedWeight.allocate(format, rows, cols, arena);
        for (int first = 0; first < rows; first += slabRows) {
            int count = Math.min(slabRows, rows - first);
            ByteBuffer slab = raw.clear().limit(Math.toIntExact(count * rowBytes)).slice().order(ByteOrder.LITTLE_ENDIAN);
            weights.readRaw(name, (long) first * cols, (long) count * cols, slab.duplicate());
            int base = first;
            int parts = Math.min(count, threads * 4);
            run(() -> IntStream.range(0, parts).parallel().forEach(p -> {
                float[] scratch = new float[cols];
                for (int r = count * p / parts; r < count * (p + 1) / parts; r++) {
                    int bad = packed.packRow(base + r, slab, (int) (r * rowBytes), t.dtype(), scratch);
                    if (bad >= 0) {
                        throw new UserError(where + ": tensor '" + name + "' has a value that is not finite (NaN or infinity) at ["
                                + (base + r) + ", " + bad + "]: the checkpoint is damaged");
                    }
                }
            }));
        }
        return packed;
    }

    private void run(Runnable task) {
        try {
            pool.submit(task).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while loading weights", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public void close() {
        pool.shutdown();
    }
}
