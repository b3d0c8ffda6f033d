package dev.finadvisor.domain.runs;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The process writing a run: readers on the same host check the PID is alive and still the same
 * process (its start time guards against a reused PID); readers elsewhere go by the heartbeat file.
 */
public record ProcessRef(long pid, String host, Instant startedAt) {
    /** This JVM. */
    public static ProcessRef current() {
        ProcessHandle self = ProcessHandle.current();
        return new ProcessRef(self.pid(), localHost(), self.info().startInstant().orElse(null));
    }

    /** Whether this process still runs, when that can be told from here (same host); empty otherwise. */
    public Optional<Boolean> aliveOnThisHost() {
        if (host == null || !host.equals(localHost())) return Optional.empty();
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty() || !handle.get().isAlive()) return Optional.of(false);
        Optional<Instant> started = handle.get().info().startInstant();
        if (startedAt != null && started.isPresent()) {
            // Another process that got the same PID later started at another time.
            return Optional.of(Duration.between(startedAt, started.get()).abs().compareTo(Duration.ofSeconds(2)) < 0);
        }
        return Optional.of(true);
    }

    /** The kernel's host name (no DNS look-up, which can hang on a badly configured machine). */
    public static String localHost() {
        try {
            Path proc = Path.of("/proc/sys/kernel/hostname");
            if (Files.isReadable(proc)) return Files.readString(proc).strip();
        } catch (IOException e) {
            // fall through to the JDK
        }
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) return env;
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
