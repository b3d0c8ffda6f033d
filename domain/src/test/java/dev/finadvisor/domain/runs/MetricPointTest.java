package dev.finadvisor.domain.runs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MetricPointTest {
    @Test
    void roundTripsThroughOneJsonLineIncludingNonFiniteValuesAndExtras() {
        Random rnd = new Random();
        for (int i = 0; i < 200; i++) {
            Map<String, Double> values = new LinkedHashMap<>();
            for (String k : MetricPoint.KNOWN) if (rnd.nextBoolean()) values.put(k, draw(rnd));
            if (rnd.nextBoolean()) values.put("custom_" + rnd.nextInt(5), draw(rnd));
            MetricPoint p = MetricPoint.of(rnd.nextInt(1_000_000), values);
            String line = p.toJsonLine();
            assertThat(line).doesNotContain("\n");
            assertThat(MetricPoint.parse(line, "x")).isEqualTo(p);
        }
    }

    private static double draw(Random rnd) {
        return switch (rnd.nextInt(6)) {
            case 0 -> Double.NaN;
            case 1 -> Double.POSITIVE_INFINITY;
            case 2 -> Double.NEGATIVE_INFINITY;
            default -> rnd.nextGaussian() * Math.pow(10, rnd.nextInt(12) - 6);
        };
    }

    @Test
    void writesKnownNamesInContractOrder() {
        MetricPoint p = MetricPoint.of(7, Map.of("tokens_per_s", 10.0, "loss", 2.0, "learning_rate", 1e-4));
        assertThat(p.toJsonLine()).isEqualTo("{\"step\":7,\"loss\":2.0,\"learning_rate\":1.0E-4,\"tokens_per_s\":10.0}");
    }

    @Test
    void stepIsNotAValue() {
        assertThatThrownBy(() -> MetricPoint.of(1, Map.of("step", 2.0))).isInstanceOf(IllegalArgumentException.class);
    }
}
