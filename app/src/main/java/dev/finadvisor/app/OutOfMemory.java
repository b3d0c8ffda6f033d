package dev.finadvisor.app;

import dev.finadvisor.llm.lowbit.MemoryCheck;
import java.lang.management.ManagementFactory;
import java.util.Optional;

/**
 * Turns running out of memory, anywhere in a command, into one line that says which limit was reached and how to
 * raise it: the Java heap or direct memory (both set by JVM options the launcher reads from
 * {@code FINADVISOR_JAVA_OPTS}), or the machine's own memory when libtorch's allocator fails.
 */
final class OutOfMemory {
    private OutOfMemory() {}

    /** The line for {@code e} if it, or anything that caused it, is running out of memory. */
    static Optional<String> explain(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String message = t.getMessage() == null ? "" : t.getMessage();
            if (t instanceof OutOfMemoryError) return Optional.of(forJvm(message));
            if (message.contains("DefaultCPUAllocator: can't allocate memory") || message.contains("DefaultCPUAllocator: not enough memory")) {
                return Optional.of("out of memory: libtorch could not allocate a tensor (the machine's " + MemoryCheck.gb(totalMemory())
                        + " are used up); free memory, use a smaller model or --weights nf4 / quantization: nf4, fewer tokens"
                        + " (model.max_seq_length) or training.gradient_checkpointing: true");
            }
        }
        return Optional.empty();
    }

    private static String forJvm(String message) {
        long machine = totalMemory();
        String suggestion = (machine * 3 / 4 >> 30) + "g";
        if (message.contains("Direct buffer memory") || message.contains("direct buffer")) {
            return "out of memory: the JVM's direct-memory limit (" + MemoryCheck.gb(MemoryCheck.directMemoryLimit())
                    + ") is reached; raise it, e.g. FINADVISOR_JAVA_OPTS=\"-XX:MaxDirectMemorySize=" + suggestion + "\"";
        }
        return "out of memory: the Java heap's limit (" + MemoryCheck.gb(Runtime.getRuntime().maxMemory()) + ", " + message
                + ") is reached; raise it, e.g. FINADVISOR_JAVA_OPTS=\"-Xmx" + suggestion + "\" (this machine has "
                + MemoryCheck.gb(machine) + "), or use a smaller model or --weights nf4";
    }

    /** The machine's memory. */
    private static long totalMemory() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
    }
}
