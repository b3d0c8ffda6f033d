package dev.finadvisor.domain.config;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Collects configuration problems by dotted key, so that all of them are reported at once. */
public final class Problems {
    /** A problem with the value at {@code key}. */
    public record Problem(String key, String message) {}

    private final List<Problem> list = new ArrayList<>();
    private final String prefix;

    public Problems() {
        this("");
    }

    private Problems(String prefix) {
        this.prefix = prefix;
    }

    public void add(String key, String message) {
        list.add(new Problem(prefix + key, message));
    }

    /** Validates a nested record under {@code key}, prefixing its keys. */
    public void nested(String key, Validated child) {
        if (child == null) return;
        Problems sub = new Problems(prefix + key + ".");
        child.validate(sub);
        list.addAll(sub.list);
    }

    public void requireRange(String key, double value, double min, double max) {
        if (!(value >= min && value <= max)) { // also rejects NaN
            add(key, "is " + format(value) + ", must be between " + format(min) + " and " + format(max));
        }
    }

    public void requireRange(String key, long value, long min, long max) {
        if (value < min || value > max) add(key, "is " + value + ", must be between " + min + " and " + max);
    }

    public void requireNonBlank(String key, String value) {
        if (value == null || value.isBlank()) add(key, "is missing or empty");
    }

    public void requireOneOf(String key, String value, Collection<String> allowed) {
        if (value == null || !allowed.contains(value)) {
            String hint = value == null ? "" : Suggest.nearest(value, allowed).map(s -> " (did you mean '" + s + "'?)").orElse("");
            add(key, "is " + (value == null ? "missing" : "'" + value + "'") + ", must be one of " + allowed + hint);
        }
    }

    public List<Problem> list() {
        return List.copyOf(list);
    }

    public boolean isEmpty() {
        return list.isEmpty();
    }

    private static String format(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
}
