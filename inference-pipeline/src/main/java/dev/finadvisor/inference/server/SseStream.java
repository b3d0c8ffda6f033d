package dev.finadvisor.inference.server;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A Server-Sent Events response written by hand (so the first event, not the handler's return, commits
 * the headers). A failed write means the client went away: {@link #gone()} turns true and later
 * events are dropped, which is what stops the generation feeding it.
 */
final class SseStream {
    private final OutputStream out;
    private volatile boolean gone;

    SseStream(OutputStream out) {
        this.out = out;
    }

    /** Sends {@code event: name} (omitted when null) and the data, one {@code data:} line per line. */
    synchronized void send(String event, String data) {
        if (gone) return;
        StringBuilder sb = new StringBuilder();
        if (event != null) sb.append("event: ").append(event).append('\n');
        for (String line : data.split("\n", -1)) sb.append("data: ").append(line).append('\n');
        sb.append('\n');
        try {
            out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException | RuntimeException e) {
            gone = true;
        }
    }

    boolean gone() {
        return gone;
    }
}
