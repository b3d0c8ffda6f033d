package dev.finadvisor.retrieval;

import dev.finadvisor.domain.UserError;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses how far back news should reach: a duration ({@code 90m}, {@code 24h}, {@code 7d}, {@code 2w}) or a date/instant. */
public final class TimeWindow {
    private static final Pattern AGO = Pattern.compile("(\\d{1,6})([mhdw])");

    private TimeWindow() {}

    /**
     * The instant {@code text} names: {@code now - duration}, the start of a UTC date
     * ({@code 2026-01-05}), {@code all} (the epoch: no limit), or an ISO-8601 instant ({@code 2026-01-05T14:00:00Z}); {@code what} names the option or
     * field it came from, for the error.
     */
    public static Instant since(String what, String text, Clock clock) {
        String t = text == null ? "" : text.strip();
        if (t.equals("all")) return Instant.EPOCH;
        Matcher m = AGO.matcher(t);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            Duration d = switch (m.group(2)) {
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                case "d" -> Duration.ofDays(n);
                default -> Duration.ofDays(7 * n);
            };
            return clock.instant().minus(d);
        }
        try {
            return LocalDate.parse(t).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException notADate) {
            try {
                return Instant.parse(t);
            } catch (DateTimeParseException notAnInstant) {
                throw new UserError(what + " '" + text + "': expected a duration back from now (90m, 24h, 7d, 2w),"
                        + " a UTC date (2026-01-05), an instant (2026-01-05T14:00:00Z) or all");
            }
        }
    }
}
