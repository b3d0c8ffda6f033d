package dev.finadvisor.llm.lowbit;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.safetensors.Dtype;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How a model's projection weights are held for generation ({@code --weights}, {@code model.weights}): fp32 engine
 * tensors, or packed in Java memory as bf16, int8 (a fp32 scale per {@value PackedWeight#GROUP} weights) or NF4
 * (QLoRA's 4-bit code book, a fp32 absmax per {@value PackedWeight#GROUP} weights), read in place by the decoder.
 * {@link #AUTO} keeps the checkpoint's own precision: bf16 stays bf16 instead of doubling to fp32.
 */
public enum WeightFormat {
    AUTO(0), FP32(32), BF16(16), INT8(8 + 32.0 / PackedWeight.GROUP), NF4(4 + 32.0 / PackedWeight.GROUP);

    private final double bits;

    WeightFormat(double bits) {
        this.bits = bits;
    }

    /** Bits held per weight, scales included (0 for AUTO, which is resolved against a checkpoint first). */
    public double bitsPerWeight() {
        return bits;
    }

    /** Whether weights in this format are packed in Java memory (not fp32 engine tensors). */
    public boolean packed() {
        return this == BF16 || this == INT8 || this == NF4;
    }

    /** The format {@code auto} means for weights stored as {@code dtype}: bf16 stays bf16, everything else is fp32 (fp16 is exact in fp32, not in bf16). */
    public WeightFormat resolve(Dtype dtype) {
        if (this != AUTO) return this;
        return dtype == Dtype.BF16 ? BF16 : FP32;
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code fp32|bf16|int8|nf4|auto}, case-insensitive; {@code where} names the option or key for the error. */
    public static WeightFormat parse(String text, String where) {
        for (WeightFormat f : values()) {
            if (f.id().equalsIgnoreCase(text.strip())) return f;
        }
        throw new UserError(where + ": '" + text + "' is not a weight format; use one of "
                + Arrays.stream(values()).map(WeightFormat::id).collect(Collectors.joining(", ")));
    }
}
