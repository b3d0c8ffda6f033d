package dev.finadvisor.llm.safetensors;

import java.util.Arrays;

/**
 * One tensor's entry in a safetensors header: its dtype, shape and byte span, the span relative
 * to the start of the data section (after the 8-byte length and the JSON header).
 */
public record TensorInfo(String name, Dtype dtype, long[] shape, long begin, long end) {
    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d; // validated not to overflow when the header was read
        return n;
    }

    public long byteLength() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
    }
}
