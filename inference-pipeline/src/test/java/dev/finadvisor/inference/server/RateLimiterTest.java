package dev.finadvisor.inference.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
    static final long MINUTE = 60_000_000_000L;

    @Test
    void aClientGetsItsBurstThenWaitsForTheRefill() {
        AtomicLong now = new AtomicLong();
        RateLimiter limiter = new RateLimiter(60, 2, now::get);
        limiter.acquire("a");
        limiter.acquire("a");
        assertThatThrownBy(() -> limiter.acquire("a")).isInstanceOf(ApiException.class).hasMessageContaining("retry after 1 s");
        limiter.acquire("b"); // a bucket of its own
        now.addAndGet(1_000_000_000L);
        limiter.acquire("a");
    }

    @Test
    void clientsThatHaveRefilledAreForgottenSoMemoryIsBounded() {
        AtomicLong now = new AtomicLong();
        RateLimiter limiter = new RateLimiter(60, 5, now::get);
        for (int i = 0; i < 5000; i++) limiter.acquire("10.0." + (i / 256) + "." + (i % 256));
        assertThat(limiter.clients()).isGreaterThan(4000); // all within the refill window: remembered
        now.addAndGet(MINUTE); // every bucket has refilled
        for (int i = 0; i < RateLimiter.SWEEP_EVERY; i++) limiter.acquire("late-" + i); // a sweep comes round among these
        assertThat(limiter.clients()).as("only the late clients, still refilling, remain").isLessThanOrEqualTo(RateLimiter.SWEEP_EVERY);
    }

    @Test
    void aFloodOfAddressesWithinTheWindowStaysUnderTheCap() {
        AtomicLong now = new AtomicLong();
        RateLimiter limiter = new RateLimiter(60, 5, 1000, now::get);
        for (int i = 0; i < 100_000; i++) limiter.acquire("addr-" + i);
        assertThat(limiter.clients()).isLessThanOrEqualTo(1000);
    }
}
