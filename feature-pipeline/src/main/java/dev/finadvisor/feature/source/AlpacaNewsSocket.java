package dev.finadvisor.feature.source;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One WebSocket connection to Alpaca's news stream, turned into a queue of whole text messages.
 * The JDK delivers a large message in parts until {@code last}; each callback asks for the next
 * frame ({@code request(1)}), so the socket never stalls while the feed thread is busy.
 */
final class AlpacaNewsSocket implements AutoCloseable {
    /** A whole message, or (text null) the end of the connection and why. */
    record Event(String text, long receivedAtMillis, String closedReason) {
        boolean closed() {
            return text == null;
        }
    }

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final WebSocket socket;

    private AlpacaNewsSocket(HttpClient http, URI uri, Duration timeout) throws Exception {
        Listener listener = new Listener();
        CompletableFuture<WebSocket> opening = http.newWebSocketBuilder().connectTimeout(timeout).buildAsync(uri, listener);
        this.socket = opening.get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    }

    static AlpacaNewsSocket connect(HttpClient http, URI uri, Duration timeout) throws Exception {
        return new AlpacaNewsSocket(http, uri, timeout);
    }

    /** The next event, or null when none arrived within {@code timeout}. */
    Event next(Duration timeout) throws InterruptedException {
        return events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    void send(String text) throws Exception {
        socket.sendText(text, true).get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        if (!socket.isOutputClosed()) {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").orTimeout(2, TimeUnit.SECONDS).exceptionally(e -> null);
        }
        socket.abort();
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder parts = new StringBuilder();

        @Override
        public void onOpen(WebSocket webSocket) {
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            parts.append(data);
            if (last) {
                events.add(new Event(parts.toString(), System.currentTimeMillis(), null));
                parts.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            webSocket.request(1); // Alpaca's news stream speaks JSON text; binary frames carry nothing we read.
            return null;
        }

        @Override
        public CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
            webSocket.request(1); // the JDK answers the ping itself
            return null;
        }

        @Override
        public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            events.add(new Event(null, System.currentTimeMillis(), "closed by the server (" + statusCode + (reason.isEmpty() ? "" : " " + reason) + ")"));
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            events.add(new Event(null, System.currentTimeMillis(), "connection lost: " + error));
        }
    }
}
