package dev.finadvisor.feature.source;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with jitter: attempt n waits between half and all of
 * {@code min(max, initial * 2^n)}, so many clients that lost the same server do not return in step.
 */
final class Backoff {
    private final long initialMs;
    private final long maxMs;

    Backoff(Duration initial, Duration max) {
        this.initialMs = Math.max(1, initial.toMillis());
        this.maxMs = Math.max(initialMs, max.toMillis());
    }

    long delayMillis(int attempt) {
        long cap = attempt >= 30 ? maxMs : Math.min(maxMs, initialMs << attempt);
        return cap / 2 + ThreadLocalRandom.current().nextLong(cap / 2 + 1);
    }
}
