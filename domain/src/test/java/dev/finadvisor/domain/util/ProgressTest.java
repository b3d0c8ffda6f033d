package dev.finadvisor.domain.util;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressTest {
    @Test
    void barShowsCountsRateEtaAndStatus() {
        AtomicLong clock = new AtomicLong();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream term = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        try (Progress p = new Progress("train", 100, "steps", term, Duration.ofSeconds(10), clock::get)) {
            clock.set(10_000_000_000L); // 10 s
            p.advance(50, "loss 1.23");
            assertThat(p.line()).isEqualTo("train [############............] 50/100 steps 5.00 steps/s ETA 10s loss 1.23");
        }
        String drawn = bytes.toString(StandardCharsets.UTF_8);
        assertThat(drawn).contains("\r").contains("50/100").endsWith("\n");
    }

    @Test
    void durationsReadNaturally() {
        assertThat(Progress.formatDuration(5)).isEqualTo("5s");
        assertThat(Progress.formatDuration(125)).isEqualTo("2m05s");
        assertThat(Progress.formatDuration(7260)).isEqualTo("2h01m");
    }
}
