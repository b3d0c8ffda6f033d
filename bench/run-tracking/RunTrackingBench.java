// Run-tracking benchmark: what the tracker costs a training run. Run through ./bench/run-tracking/run.
import dev.finadvisor.domain.runs.MetricPoint;
import dev.finadvisor.domain.runs.RunStore;
import dev.finadvisor.domain.runs.Sha256;
import dev.finadvisor.training.tracking.RunReport;
import dev.finadvisor.training.tracking.RunSpec;
import dev.finadvisor.training.tracking.RunTracker;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Map;

public class RunTrackingBench {
    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        int mib = Integer.parseInt(args[1]);
        long referenceMs = Long.parseLong(args[2]);
        System.out.printf(Locale.ROOT, "machine: %d cores, load average at start %s%n", Runtime.getRuntime().availableProcessors(), load());

        // 1. Hashing the base model, as RunTracker.start does for every run.
        Path model = work.resolve("model");
        Sha256.hex(model); // warm-up (JIT, page cache)
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            long t0 = System.nanoTime();
            Sha256.hex(model);
            best = Math.min(best, System.nanoTime() - t0);
        }
        double ms = best / 1e6;
        System.out.printf(Locale.ROOT, "hash base model: %d MiB in %.0f ms = %.0f MiB/s; sha256sum %d ms = %.0f MiB/s; ratio %.2f%n",
                mib, ms, mib / (ms / 1000), referenceMs, mib / (referenceMs / 1000.0), referenceMs / ms);

        // 2. One metrics line per step, against appending the same bytes to a bare channel.
        int steps = 20_000;
        Map<String, Double> values = Map.of("loss", 2.345678, "learning_rate", 1.5e-4, "grad_norm", 0.87654, "tokens_per_s", 3823.4, "epoch", 0.5);
        long rawNs = Long.MAX_VALUE;
        long trackerNs = Long.MAX_VALUE;
        Path runDir = null;
        for (int round = 0; round < 3; round++) { // round 0 warms the JIT; the best later round counts
            Path raw = work.resolve("raw-" + round + ".jsonl");
            try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
                long t0 = System.nanoTime();
                for (int s = 0; s < steps; s++) {
                    byte[] line = (MetricPoint.of(s, values).toJsonLine() + "\n").getBytes(StandardCharsets.UTF_8);
                    ch.write(ByteBuffer.wrap(line));
                }
                if (round > 0) rawNs = Math.min(rawNs, System.nanoTime() - t0);
            }
            try (RunTracker run = RunTracker.start(new RunSpec(work.resolve("runs"), "bench", Map.of(), null, null, "none", "cpu()").withoutReport())) {
                long t0 = System.nanoTime();
                for (int s = 0; s < steps; s++) run.log(s, values);
                if (round > 0) trackerNs = Math.min(trackerNs, System.nanoTime() - t0);
                run.finish(Map.of());
                runDir = run.dir();
            }
        }
        System.out.printf(Locale.ROOT, "log a step: %.1f us (bare append of the same line %.1f us); ratio %.2f%n",
                trackerNs / 1e3 / steps, rawNs / 1e3 / steps, (double) rawNs / trackerNs);

        // 3. The end-of-run report of a 20,000-step run (4 charts rendered twice: PNG files and embedded).
        var r = RunStore.readDir(runDir);
        RunReport.write(r); // warm-up: AWT and fonts load once per JVM
        long t0 = System.nanoTime();
        RunReport.write(r);
        System.out.printf(Locale.ROOT, "report of a %d-step run: %.0f ms (first in a JVM adds AWT start-up)%n", steps, (System.nanoTime() - t0) / 1e6);
        System.out.println("load average at end " + load());
    }

    static String load() throws Exception {
        return Files.readString(Path.of("/proc/loadavg")).strip();
    }
}
