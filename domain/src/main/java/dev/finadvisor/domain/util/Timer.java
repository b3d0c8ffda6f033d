package dev.finadvisor.domain.util;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Logs how long a phase took: {@code try (var t = Timer.log("load checkpoint")) { ... }}. */
public final class Timer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Timer.class);
    private final String label;
    private final long start = System.nanoTime();

    private Timer(String label) {
        this.label = label;
    }

    public static Timer log(String label) {
        return new Timer(label);
    }

    public long elapsedMillis() {
        return (System.nanoTime() - start) / 1_000_000;
    }

    @Override
    public void close() {
        log.info("{}: {} ms", label, elapsedMillis());
    }
}
