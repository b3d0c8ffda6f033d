package dev.finadvisor.training.eval;

import dev.finadvisor.domain.UserError;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code --fail-under metric=value} bars: a metric misses its bar when it is below it, or above it for metrics where lower
 * is better (loss, perplexity, latency_ms). A metric that could not be computed (no value) misses every bar.
 */
public record Gate(Map<String, Double> bars) {
    /** Parses {@code metric=value} items; every metric must be one of {@code known}. */
    public static Gate parse(List<String> items, List<String> known) {
        Map<String, Double> bars = new LinkedHashMap<>();
        for (String item : items) {
            int eq = item.indexOf('=');
            String metric = eq < 0 ? item : item.substring(0, eq).strip();
            if (eq < 0 || !known.contains(metric)) {
                throw new UserError("--fail-under " + item + ": give METRIC=VALUE with METRIC one of " + String.join(", ", known));
            }
            try {
                bars.put(metric, Double.parseDouble(item.substring(eq + 1).strip()));
            } catch (NumberFormatException e) {
                throw new UserError("--fail-under " + item + ": '" + item.substring(eq + 1) + "' is not a number");
            }
        }
        return new Gate(bars);
    }

    /** One line per bar missed by {@code metrics}; empty when all are met. */
    public List<String> missed(Map<String, Double> metrics) {
        List<String> out = new ArrayList<>();
        bars.forEach((metric, bar) -> {
            Double v = metrics.get(metric);
            boolean upper = Metrics.lowerIsBetter(metric);
            if (v == null || v.isNaN()) {
                out.add(metric + " has no value (not measured on these samples); bar " + bar);
            } else if (upper ? v > bar : v < bar) {
                out.add(String.format(Locale.ROOT, "%s is %.4f, %s the bar %s", metric, v, upper ? "above" : "below", bar));
            }
        });
        return out;
    }
}
