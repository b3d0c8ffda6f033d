package dev.finadvisor.inference.server;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAdder;

/** A Prometheus histogram with fixed upper bounds (cumulative buckets written at scrape time). */
final class Histogram {
    private final double[] bounds;
    private final AtomicLongArray counts;
    private final DoubleAdder sum = new DoubleAdder();

    Histogram(double... bounds) {
        this.bounds = bounds.clone();
        this.counts = new AtomicLongArray(bounds.length + 1);
    }

    void observe(double value) {
        observe(value, 1);
    }

    /** {@code times} observations of {@code value}. */
    void observe(double value, long times) {
        int i = 0;
        while (i < bounds.length && value > bounds[i]) i++;
        counts.addAndGet(i, times);
        sum.add(value * times);
    }

    /** Appends the bucket, sum and count lines; {@code labels} is "" or {@code key="v",} pairs ending in a comma. */
    void write(StringBuilder out, String name, String labels) {
        long cumulative = 0;
        for (int i = 0; i <= bounds.length; i++) {
            cumulative += counts.get(i);
            String le = i == bounds.length ? "+Inf" : format(bounds[i]);
            out.append(name).append("_bucket{").append(labels).append("le=\"").append(le).append("\"} ").append(cumulative).append('\n');
        }
        String plain = labels.isEmpty() ? "" : "{" + labels.substring(0, labels.length() - 1) + "}";
        out.append(name).append("_sum").append(plain).append(' ').append(format(sum.sum())).append('\n');
        out.append(name).append("_count").append(plain).append(' ').append(cumulative).append('\n');
    }

    static String format(double d) {
        if (d == Math.rint(d) && Math.abs(d) < 1e15) return Long.toString((long) d);
        return String.format(Locale.ROOT, "%.6g", d).replaceAll("0+$", "").replaceAll("\\.$", "");
    }
}
