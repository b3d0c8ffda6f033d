package dev.finadvisor.inference.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A token bucket per client (API key, or address when no keys are set): {@code perMinute} refill, {@code burst} size.
 * Memory stays bounded however many addresses call: a bucket that has refilled is forgotten (a new one would be the
 * same), swept every {@link #SWEEP_EVERY} requests, and beyond {@code maxClients} the least recently seen go first.
 */
public final class RateLimiter {
    static final int SWEEP_EVERY = 1024;
    static final int DEFAULT_MAX_CLIENTS = 100_000;
    private final double perNano;
    private final int burst;
    private final int maxClients;
    private final LongSupplier nanoTime;
    private final Map<String, double[]> buckets = new ConcurrentHashMap<>(); // [tokens, lastNanos]
    private final AtomicLong requests = new AtomicLong();
    private final AtomicBoolean sweeping = new AtomicBoolean();

    public RateLimiter(int perMinute, int burst, LongSupplier nanoTime) {
        this(perMinute, burst, DEFAULT_MAX_CLIENTS, nanoTime);
    }

    RateLimiter(int perMinute, int burst, int maxClients, LongSupplier nanoTime) {
        this.perNano = perMinute / 60e9;
        this.burst = burst;
        this.maxClients = maxClients;
        this.nanoTime = nanoTime;
    }

    /** Takes one request's token, or throws 429 telling when the next one is available. */
    public void acquire(String client) {
        if (perNano == 0) return;
        if (requests.incrementAndGet() % SWEEP_EVERY == 0 || buckets.size() >= maxClients) sweep(nanoTime.getAsLong());
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

    /** Forgets refilled buckets; still at the cap, the least recently seen tenth. One thread sweeps at a time; the others go on. */
    private void sweep(long now) {
        if (!sweeping.compareAndSet(false, true)) return;
        try {
            buckets.values().removeIf(b -> {
                synchronized (b) {
                    return b[0] + (now - (long) b[1]) * perNano >= burst;
                }
            });
            if (buckets.size() >= maxClients) {
                List<Map.Entry<String, Long>> seen = new ArrayList<>(); // last-seen times read under each bucket's lock: a stable sort key
                buckets.forEach((client, b) -> {
                    synchronized (b) {
                        seen.add(Map.entry(client, (long) b[1]));
                    }
                });
                seen.sort(Map.Entry.comparingByValue());
                seen.subList(0, Math.min(seen.size(), Math.max(1, maxClients / 10))).forEach(e -> buckets.remove(e.getKey()));
            }
        } finally {
            sweeping.set(false);
        }
    }

    /** How many clients it remembers (tests). */
    int clients() {
        return buckets.size();
    }
}
