package dev.finadvisor.llm.lowbit;

import java.util.ArrayList;
import java.util.List;

/**
 * Hands out ranges of a few large arrays for a model's packed matrices. Allocated one by one, each of the hundreds of
 * matrices would round up to whole G1 heap regions (a 8 MiB bf16 projection took two 8 MiB regions): a 1.1B model held
 * 0.9 GB more heap than its weights. Chunks are sized to fill whole regions; each range is taken first-fit. Thread-safe.
 */
public final class PackedArena {
    /** Chunk size in bytes: a power of two less an array header fills whole regions of any power-of-two size up to it. */
    static final long CHUNK_BYTES = (128L << 20) - 16;

    /** A range of {@code length} elements from {@code offset} of {@code array} (an int[], byte[] or float[]). */
    record Range<A>(A array, int offset) {}

    private final List<Chunk<int[]>> ints = new ArrayList<>();
    private final List<Chunk<byte[]>> bytes = new ArrayList<>();
    private final List<Chunk<float[]>> floats = new ArrayList<>();

    private static final class Chunk<A> {
        final A array;
        final int length;
        int used;

        Chunk(A array, int length) {
            this.array = array;
            this.length = length;
        }
    }

    synchronized Range<int[]> ints(int n) {
        return take(ints, n, 4, int[]::new);
    }

    synchronized Range<byte[]> bytes(int n) {
        return take(bytes, n, 1, byte[]::new);
    }

    synchronized Range<float[]> floats(int n) {
        return take(floats, n, 4, float[]::new);
    }

    private static <A> Range<A> take(List<Chunk<A>> chunks, int n, int width, java.util.function.IntFunction<A> make) {
        int chunkLength = (int) (CHUNK_BYTES / width);
        if (n > chunkLength / 2) return new Range<>(make.apply(n), 0); // large: an array of its own wastes less than a chunk's tail
        for (Chunk<A> c : chunks) {
            if (c.length - c.used >= n) {
                int at = c.used;
                c.used += n;
                return new Range<>(c.array, at);
            }
        }
        Chunk<A> c = new Chunk<>(make.apply(chunkLength), chunkLength);
        chunks.add(c);
        c.used = n;
        return new Range<>(c.array, 0);
    }
}
