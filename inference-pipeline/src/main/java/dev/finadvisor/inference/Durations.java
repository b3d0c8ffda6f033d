package dev.finadvisor.inference;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses recency windows such as {@code 7d}, {@code 12h}, {@code 2w}, {@code 30m} or ISO-8601 {@code P7D}, and
 * {@code all}: a hundred years, the longest window (no news store reaches further back).
 */
public final class Durations {
    private static final Pattern SHORT = Pattern.compile("(\\d{1,6})([mhdw])");
    /** The longest window, {@code all}: longer ones are surely a mistake. */
    public static final Duration ALL = Duration.ofDays(36500);

    private Durations() {}

    public static Duration parse(String text) {
        if (text == null || text.isBlank()) throw new IllegalArgumentException("is empty; expected e.g. 7d, 12h, 2w or P7D");
        String t = text.strip();
        if (t.equals("all")) return ALL;
        Duration d;
        Matcher m = SHORT.matcher(t);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            d = switch (m.group(2)) {
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                case "d" -> Duration.ofDays(n);
                default -> Duration.ofDays(7 * n);
            };
        } else {
            try {
                d = Duration.parse(t);
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("is '" + text + "'; expected a window such as 7d, 12h, 30m, 2w, P7D or all");
            }
        }
        if (d.isNegative() || d.isZero() || d.compareTo(ALL) > 0) {
            throw new IllegalArgumentException("is '" + text + "'; the window must be positive and at most 36500d (all)");
        }
        return d;
    }
}
