package dev.finadvisor.llm;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Java access to the engine's own tensor memory, for the loops that run faster in Java than as
 * engine ops (decoding, the optimizer's per-element update).
 */
public final class EngineMemory {
    /** True when the JVM runs with {@code --add-modules jdk.incubator.vector} (the launcher and the build add it). */
    public static final boolean VECTOR_API = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    private EngineMemory() {}

    /**
     * The tensor's fp32 memory as a native-order direct buffer, or null when it is not a fp32 CPU tensor
     * below 2 GiB. For a contiguous tensor (any tensor made by create, zeros or an op's result) reads and
     * writes go to the tensor itself; a strided view yields a contiguous copy, fit only for reading.
     */
    public static ByteBuffer floats(NDArray a) {
        if (a.getDataType() != DataType.FLOAT32 || !a.getDevice().equals(Device.cpu()) || a.size() * 4 > Integer.MAX_VALUE) return null;
        ByteBuffer b = a.toByteBuffer(true);
        return b.isDirect() ? b.order(ByteOrder.nativeOrder()) : null;
    }

    /**
     * Replaces the values of a tensor made by create or zeros (contiguous, same size): fp32 ones by a copy into
     * their memory, others through {@link NDArray#set(float[])}. DJL's set prints libtorch's deprecation
     * warning about {@code AutoNonVariableTypeMode} to stderr the first time it runs; loading an adapter or a
     * checkpoint should not.
     */
    public static void write(NDArray target, float[] values) {
        if (values.length != target.size()) {
            throw new IllegalArgumentException(values.length + " values for a tensor of " + target.size());
        }
        ByteBuffer memory = floats(target);
        if (memory != null) memory.asFloatBuffer().put(values);
        else target.set(values);
    }
}
