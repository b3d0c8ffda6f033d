package dev.finadvisor.llm.safetensors;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.MappedByteBuffer;

/**
 * Unmaps a mapping as soon as its bytes are copied, as Lucene's MMapDirectory did before Java 19:
 * otherwise the mapped file pages stay in the process's RSS until a GC, and a loaded model would
 * count its weights twice (mapped file + fp32 copy). Callers never keep a mapped buffer.
 */
final class Unmapper {
    private static final Object UNSAFE;
    private static final Method INVOKE_CLEANER;

    static {
        Object unsafe = null;
        Method invoke = null;
        try {
            Class<?> c = Class.forName("sun.misc.Unsafe");
            Field f = c.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            unsafe = f.get(null);
            invoke = c.getMethod("invokeCleaner", java.nio.ByteBuffer.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // without jdk.unsupported the GC unmaps later; only memory reporting suffers
        }
        UNSAFE = unsafe;
        INVOKE_CLEANER = invoke;
    }

    private Unmapper() {}

    static void unmap(MappedByteBuffer buffer) {
        if (INVOKE_CLEANER == null) return;
        try {
            INVOKE_CLEANER.invoke(UNSAFE, buffer);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // leave it to the GC
        }
    }
}
