package dev.finadvisor.llm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class RowPoolTest {
    @Test
    void everyRowRunsExactlyOnceForAnySizeAndThreadCount() {
        for (int threads = 1; threads <= 4; threads++) {
            try (RowPool pool = new RowPool(threads)) {
                for (int rows : new int[] {0, 1, 5, 8, 9, 1000, 32001}) {
                    for (int repeat = 0; repeat < 20; repeat++) {
                        AtomicIntegerArray hits = new AtomicIntegerArray(rows);
                        pool.run(rows, (from, to) -> {
                            for (int r = from; r < to; r++) hits.incrementAndGet(r);
                        });
                        for (int r = 0; r < rows; r++) assertThat(hits.get(r)).as("%d threads, %d rows, row %d", threads, rows, r).isEqualTo(1);
                    }
                }
            }
        }
    }

    @Test
    void aFailureInAnyShareReachesTheCallerAndThePoolStaysUsable() {
        try (RowPool pool = new RowPool(3)) {
            assertThatThrownBy(() -> pool.run(300, (from, to) -> {
                if (from > 0) throw new IllegalStateException("rows " + from + ".." + to);
            })).isInstanceOf(IllegalStateException.class).hasMessageStartingWith("rows ");
            AtomicIntegerArray hits = new AtomicIntegerArray(300);
            pool.run(300, (from, to) -> {
                for (int r = from; r < to; r++) hits.incrementAndGet(r);
            });
            for (int r = 0; r < 300; r++) assertThat(hits.get(r)).isEqualTo(1);
        }
    }
}
