package dev.finadvisor.llm.lowbit;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.safetensors.SafetensorsShards;
import dev.finadvisor.llm.safetensors.TensorInfo;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Says before loading, from the checkpoint's header, whether its weights fit in the chosen format: in the machine's
 * available memory, and under the JVM's limit for where they go (packed weights: the heap; the engine's fp32 tensors:
 * direct memory). A model that cannot fit is refused with the sizes of the other formats, not ended by an
 * OutOfMemoryError.
 */
public final class MemoryCheck {
    /** What the JVM, libtorch and the tokenizer take beside the weights. */
    static final long OVERHEAD = 400L << 20;
    private static final Pattern DIRECT_LIMIT = Pattern.compile("-XX:MaxDirectMemorySize=(\\d+)([kKmMgGtT]?)");

    private MemoryCheck() {}

    /** Bytes the weights take in {@code format} (resolved): matrices packed, or fp32; vectors (norms, biases) fp32. */
    public static long weightBytes(SafetensorsShards weights, WeightFormat format) {
        long bytes = 0;
        for (String name : weights.names()) {
            TensorInfo t = weights.info(name);
            long[] s = t.shape();
            bytes += s.length == 2 && t.dtype().isFloat() ? PackedWeight.bytes(format, s[0], s[1]) : 4 * t.elementCount();
        }
        return bytes;
    }

    /** Refuses the load when the weights in {@code format} exceed this machine's available memory or the JVM's limit for them. */
    public static void check(Path dir, SafetensorsShards weights, WeightFormat format) {
        Runtime jvm = Runtime.getRuntime();
        check(dir, weights, format, availableMemory(), jvm.maxMemory() - (jvm.totalMemory() - jvm.freeMemory()), directMemoryLimit());
    }

    /** {@code heapRoom}: what the heap can still grow to hold; {@code directLimit}: the direct-memory limit. */
    static void check(Path dir, SafetensorsShards weights, WeightFormat format, long available, long heapRoom, long directLimit) {
        long need = weightBytes(weights, format);
        String size = dir + ": its weights take " + gb(need) + " as " + format.id();
        if (available > 0 && need + OVERHEAD > available) {
            throw new UserError(size + ", more than the " + gb(available) + " of memory this machine has available; "
                    + alternatives(weights, format) + ", or use a machine with more memory");
        }
        String raise = format.packed() ? "-Xmx" + gib(need) : "-XX:MaxDirectMemorySize=" + gib(need);
        if (need > (format.packed() ? heapRoom : directLimit)) {
            throw new UserError(size + ", above what the JVM may hold of them (" + gb(format.packed() ? heapRoom : directLimit)
                    + (format.packed() ? " of heap" : " of direct memory") + "); raise the limit, e.g. FINADVISOR_JAVA_OPTS=\"" + raise
                    + "\" (the launcher lets both grow to most of the machine's memory unless told otherwise), or " + alternatives(weights, format));
        }
    }

    /** Whole GiB above {@code bytes} and the overhead, as a JVM option spells it. */
    private static String gib(long bytes) {
        return ((bytes + OVERHEAD) / (1L << 30) + 1) + "g";
    }

    private static String alternatives(SafetensorsShards weights, WeightFormat chosen) {
        StringBuilder s = new StringBuilder("smaller formats take");
        for (WeightFormat f : new WeightFormat[] {WeightFormat.BF16, WeightFormat.INT8, WeightFormat.NF4}) {
            if (f.bitsPerWeight() < chosen.bitsPerWeight()) {
                s.append(' ').append(gb(weightBytes(weights, f))).append(" (--weights ").append(f.id()).append("),");
            }
        }
        return s.charAt(s.length() - 1) == ',' ? s.substring(0, s.length() - 1) : "no smaller format is supported";
    }

    public static String gb(long bytes) {
        return String.format(Locale.ROOT, "%.1f GB", bytes / 1e9);
    }

    /** MemAvailable of /proc/meminfo, or 0 where it cannot be read (then only the JVM's limit is checked). */
    public static long availableMemory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }

    /** -XX:MaxDirectMemorySize if given, else the JVM's default for it: the maximum heap size. */
    public static long directMemoryLimit() {
        long limit = Runtime.getRuntime().maxMemory();
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            Matcher m = DIRECT_LIMIT.matcher(arg);
            if (m.matches()) limit = Long.parseLong(m.group(1)) << switch (m.group(2).toLowerCase(Locale.ROOT)) {
                case "k" -> 10;
                case "m" -> 20;
                case "g" -> 30;
                case "t" -> 40;
                default -> 0;
            };
        }
        return limit;
    }
}
