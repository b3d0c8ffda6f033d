package dev.finadvisor.inference.server;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/** A token bucket per client (API key, or address when no keys are set): {@code perMinute} refill, {@code burst} size. */
public final class RateLimiter {
    private final double perNano;
    private final int burst;
    private final LongSupplier nanoTime;
    private final Map<String, double[]> buckets = new ConcurrentHashMap<>(); // [tokens, lastNanos]

    public RateLimiter(int perMinute, int burst, LongSupplier nanoTime) {
        this.perNano = perMinute / 60e9;
        this.burst = burst;
        this.nanoTime = nanoTime;
    }

    /** Takes one request's token, or throws 429 telling when the next one is available. */
    public void acquire(String client) {
        if (perNano == 0) return;
        double[] b = buckets.computeIfAbsent(client, c -> new double[] {burst, nanoTime.getAsLong()});
        synchronized (b) {
            long now = nanoTime.getAsLong();
            b[0] = Math.min(burst, b[0] + (now - (long) b[1]) * perNano);
            b[1] = now;
            if (b[0] >= 1) {
                b[0] -= 1;
                return;
            }
            long seconds = (long) Math.ceil((1 - b[0]) / perNano / 1e9);
            throw new ApiException(429, "rate_limit_exceeded", null,
                    "too many requests for this API key; retry after " + seconds + " s", Map.of("Retry-After", Long.toString(seconds)));
        }
    }
}
