package dev.finadvisor.domain.util;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Progress of long work: a redrawn bar on a terminal, a log line every {@code logEvery} otherwise
 * (CI, files, pipes). Shows done/total, rate, ETA and a caller-supplied status such as the loss.
 */
public final class Progress implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Progress.class);

    private final String label;
    private final long total;
    private final String unit;
    private final PrintStream terminal; // null: log lines instead
    private final Duration logEvery;
    private final LongSupplier nanoClock;
    private final long start;
    private long done;
    private long lastDraw;
    private String lastLogged = "";
    private String status = "";

    Progress(String label, long total, String unit, PrintStream terminal, Duration logEvery, LongSupplier nanoClock) {
        this.label = label;
        this.total = total;
        this.unit = unit;
        this.terminal = terminal;
        this.logEvery = logEvery;
        this.nanoClock = nanoClock;
        this.start = nanoClock.getAsLong();
        this.lastDraw = start;
    }

    /** A bar on stderr when it is a terminal, periodic log lines (every 10 s) otherwise. */
    public static Progress start(String label, long total, String unit) {
        boolean tty = System.console() != null && !"dumb".equals(System.getenv("TERM"));
        return new Progress(label, total, unit, tty ? System.err : null, Duration.ofSeconds(10), System::nanoTime);
    }

    /** Adds {@code n} finished units and sets the status shown after the counts. */
    public synchronized void advance(long n, String status) {
        done += n;
        this.status = status == null ? "" : status;
        long now = nanoClock.getAsLong();
        long interval = terminal != null ? 200_000_000L : logEvery.toNanos();
        if (now - lastDraw >= interval || (total > 0 && done >= total)) {
            lastDraw = now;
            emit(false);
        }
    }

    public synchronized long done() {
        return done;
    }

    /** The current line, e.g. {@code train [#####.....] 50/100 steps 2.0 steps/s ETA 25s loss 1.23}. */
    synchronized String line() {
        double seconds = Math.max(1e-9, (nanoClock.getAsLong() - start) / 1e9);
        double rate = done / seconds;
        StringBuilder sb = new StringBuilder(label).append(' ');
        if (total > 0) {
            int width = 24;
            int filled = (int) Math.min(width, width * done / total);
            sb.append('[').append("#".repeat(filled)).append(".".repeat(width - filled)).append("] ");
            sb.append(done).append('/').append(total);
        } else {
            sb.append(done);
        }
        sb.append(' ').append(unit).append(String.format(Locale.ROOT, " %.2f %s/s", rate, unit));
        if (total > 0 && rate > 0 && done < total) sb.append(" ETA ").append(formatDuration((total - done) / rate));
        if (!status.isEmpty()) sb.append(' ').append(status);
        return sb.toString();
    }

    private void emit(boolean last) {
        String line = line();
        if (terminal != null) {
            terminal.print("\r\033[2K" + line + (last ? "\n" : ""));
            terminal.flush();
        } else if (!line.equals(lastLogged)) { // the closing line repeats the last one when nothing moved since
            lastLogged = line;
            log.info(line);
        }
    }

    @Override
    public synchronized void close() {
        emit(true);
    }

    static String formatDuration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) return s + "s";
        if (s < 3600) return (s / 60) + "m" + String.format(Locale.ROOT, "%02d", s % 60) + "s";
        return (s / 3600) + "h" + String.format(Locale.ROOT, "%02d", (s % 3600) / 60) + "m";
    }
}
