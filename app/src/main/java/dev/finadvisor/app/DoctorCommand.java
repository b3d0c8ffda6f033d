package dev.finadvisor.app;

import dev.finadvisor.domain.config.Secrets;
import dev.finadvisor.llm.EngineCheck;
import dev.finadvisor.llm.model.JavaDecode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Checks the machine finadvisor runs on: Java, cores, memory, jemalloc, DJL settings, the engine, secrets. */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = "Check this machine: Java, cores, memory, jemalloc, DJL offline mode, the PyTorch engine's matmul rate, which secrets are set.")
final class DoctorCommand implements Callable<Integer> {
    @Option(names = "--no-engine", description = "Skip loading the PyTorch engine (loading it unpacks its natives once, ~2 s).")
    boolean noEngine;

    @Option(names = "--matmul-size", paramLabel = "N", defaultValue = "1024", description = "Size of the N x N fp32 matmul timed (default: ${DEFAULT-VALUE}).")
    int matmulSize;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Runtime rt = Runtime.getRuntime();
        row(out, "java", System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ") " + System.getProperty("java.home"));
        row(out, "cores", Integer.toString(rt.availableProcessors()));
        row(out, "max heap", gib(rt.maxMemory()));
        String mallocConf = System.getenv("MALLOC_CONF");
        row(out, "jemalloc", jemalloc().map(p -> "preloaded (" + p + ")" + (mallocConf == null ? "" : ", MALLOC_CONF=" + mallocConf))
                .orElse("not preloaded: install Debian's libjemalloc2 and use ./finadvisor (1.5x faster training)"));
        row(out, "decode", JavaDecode.describe());
        row(out, "native", nativeLibrary() + mklShim(System.getenv("LD_PRELOAD"), amdCpu()));
        String offline = Optional.ofNullable(System.getProperty("ai.djl.offline")).orElse(System.getenv("DJL_OFFLINE"));
        row(out, "djl", "offline=" + ("true".equalsIgnoreCase(offline)) + ", telemetry " + ("true".equalsIgnoreCase(System.getenv("OPT_OUT_TRACKING")) ? "off" : "ON (set OPT_OUT_TRACKING=true)"));
        if (!noEngine) {
            EngineCheck check = EngineCheck.run(matmulSize);
            row(out, "engine", String.format(Locale.ROOT, "%s %s on %s, fp32 matmul %d^3: %.1f GFLOP/s",
                    check.engine(), check.version(), check.device(), matmulSize, check.matmulGflops()));
        }
        Secrets secrets = Secrets.fromEnvironment();
        StringBuilder sb = new StringBuilder();
        for (String name : Secrets.NAMES) {
            if (sb.length() > 0) sb.append(", ");
            sb.append(name).append(secrets.get(name).isPresent() ? " set" : " not set");
        }
        row(out, "secrets", sb.toString());
        return 0;
    }

    private static void row(PrintWriter out, String key, String value) {
        out.printf(Locale.ROOT, "%-10s %s%n", key, value);
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
    }

    /** Which libtorch natives this build carries (the jar on the class path), and for which platform this JVM runs. */
    static String nativeLibrary() {
        java.net.URL natives = DoctorCommand.class.getClassLoader().getResource("pytorch/cpu/");
        String where = natives == null ? "" : natives.toString();
        int end = where.indexOf(".jar!");
        String jar = end < 0 ? "no libtorch natives jar on the class path (DJL downloads them unless offline)"
                : where.substring(where.lastIndexOf('/', end) + 1, end + 4);
        return jar + " on " + System.getProperty("os.name") + " " + System.getProperty("os.arch");
    }

    /**
     * Whether the MKL shim (native/mkl-amd.c: MKL takes its slow path on AMD CPUs otherwise, 2.2x slower matmuls) is
     * preloaded, when the CPU is an AMD one.
     */
    static String mklShim(String ldPreload, boolean amd) {
        if (!amd) return "";
        if (ldPreload != null && ldPreload.contains("libfinadvisor-mkl-amd")) return "; AMD CPU: MKL vendor shim preloaded";
        return "; AMD CPU without the MKL vendor shim: matmuls about 2.2x slower (install a C compiler, cc, and run ./finadvisor: it builds native/mkl-amd.c)";
    }

    private static boolean amdCpu() {
        try {
            return Files.readString(Path.of("/proc/cpuinfo")).contains("AuthenticAMD");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The jemalloc library mapped into this process, if any. */
    static Optional<String> jemalloc() {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream()
                    .filter(l -> l.contains("libjemalloc"))
                    .map(l -> l.substring(l.lastIndexOf(' ') + 1))
                    .findFirst();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
