package dev.finadvisor.feature.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.finadvisor.feature.source.AlpacaCredentials;
import dev.finadvisor.feature.source.AlpacaSettings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Alpaca's news API on loopback, speaking its wire format: REST {@code GET /v1beta1/news} (key
 * headers, start/end/symbols/limit/sort/page_token, {@code {"news":[...],"next_page_token":...}},
 * injected 429/5xx answers) and the news WebSocket (connected / auth / subscribe control messages,
 * {@code [{"T":"n",...}]} news, errors), with a hand-written RFC 6455 server so tests can split a
 * message over several frames and drop the connection at will.
 */
public final class FakeAlpaca implements AutoCloseable {
    public static final String KEY = "PKTEST123";
    public static final String SECRET = "s3cr3t-test";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer rest;
    private final ServerSocket wsServer;
    private final Thread acceptor;
    private final List<ObjectNode> history = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<int[]> injected = new ConcurrentLinkedQueue<>(); // {status, retryAfterSeconds}
    public final List<String> restQueries = new CopyOnWriteArrayList<>();
    public final List<String> clientMessages = new CopyOnWriteArrayList<>();
    public final AtomicInteger connections = new AtomicInteger();
    private volatile Connection current;
    private volatile String acceptedKey = KEY;

    public FakeAlpaca() throws IOException {
        rest = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        rest.createContext("/v1beta1/news", this::handleRest);
        rest.start();
        wsServer = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::acceptLoop, "fake-alpaca-ws");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public AlpacaSettings settings() {
        return new AlpacaSettings(
                URI.create("http://127.0.0.1:" + rest.getAddress().getPort() + "/v1beta1/news"),
                URI.create("ws://127.0.0.1:" + wsServer.getLocalPort() + "/v1beta1/news"),
                3, 5, Duration.ofMillis(50), Duration.ofMillis(400), Duration.ofSeconds(60), Duration.ofSeconds(5));
    }

    public static AlpacaCredentials credentials() {
        return new AlpacaCredentials(KEY, SECRET);
    }

    public void rejectAllKeys() {
        acceptedKey = "nobody";
    }

    /** Adds articles to the REST history only (news the stream will not deliver). */
    public void addToHistory(ObjectNode... articles) {
        history.addAll(List.of(articles));
    }

    /** The next REST answers are these statuses (e.g. 429 with Retry-After), then normal pages again. */
    public void failNextRest(int status, int retryAfterSeconds) {
        injected.add(new int[] {status, retryAfterSeconds});
    }

    /** Publishes an article: it enters the history and, if a client is subscribed, goes out on the stream in {@code frames} frames. */
    public void publish(ObjectNode article, int frames) throws IOException {
        history.add(article);
        Connection c = current;
        if (c != null && c.subscribed) {
            ObjectNode message = article.deepCopy();
            ObjectNode withType = JSON.createObjectNode().put("T", "n");
            withType.setAll(message);
            ArrayNode batch = JSON.createArrayNode().add(withType);
            c.sendText(batch.toString(), frames);
        }
    }

    /** Sends any text to the subscribed client (for malformed messages). */
    public void sendRaw(String text) throws IOException {
        Connection c = awaitSubscribed(Duration.ofSeconds(10));
        c.sendText(text, 1);
    }

    /** Drops the stream connection without a close frame, as a network failure would. */
    public void dropConnection() throws IOException {
        Connection c = current;
        current = null;
        if (c != null) c.socket.close();
    }

    /** Whether a client is connected, authenticated and subscribed now. */
    public boolean subscribed() {
        Connection c = current;
        return c != null && c.subscribed;
    }

    /** Waits until a client has connected, authenticated and subscribed. */
    public Connection awaitSubscribed(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Connection c = current;
            if (c != null && c.subscribed) return c;
            sleep(10);
        }
        throw new AssertionError("no client subscribed to the fake news stream within " + timeout);
    }

    @Override
    public void close() throws IOException {
        rest.stop(0);
        wsServer.close();
        dropConnection();
    }

    private void handleRest(HttpExchange ex) throws IOException {
        String query = ex.getRequestURI().getRawQuery();
        restQueries.add(query == null ? "" : query);
        int[] fail = injected.poll();
        if (fail != null) {
            if (fail[1] > 0) ex.getResponseHeaders().add("Retry-After", Integer.toString(fail[1]));
            respond(ex, fail[0], "{\"message\":\"injected failure\"}");
            return;
        }
        if (!acceptedKey.equals(ex.getRequestHeaders().getFirst("APCA-API-KEY-ID"))
                || !SECRET.equals(ex.getRequestHeaders().getFirst("APCA-API-SECRET-KEY"))) {
            respond(ex, 403, "{\"message\":\"forbidden\"}");
            return;
        }
        Map<String, String> params = new HashMap<>();
        if (query != null) {
            for (String kv : query.split("&")) {
                int eq = kv.indexOf('=');
                params.put(URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        Instant start = params.containsKey("start") ? Instant.parse(params.get("start")) : Instant.EPOCH;
        Instant end = params.containsKey("end") ? Instant.parse(params.get("end")) : Instant.MAX;
        List<String> symbols = params.containsKey("symbols") ? List.of(params.get("symbols").split(",")) : List.of();
        int limit = Integer.parseInt(params.getOrDefault("limit", "10"));
        int offset = params.containsKey("page_token") ? Integer.parseInt(new String(Base64.getDecoder().decode(params.get("page_token")), StandardCharsets.UTF_8)) : 0;
        List<ObjectNode> matching = new ArrayList<>();
        for (ObjectNode a : history) {
            Instant created = Instant.parse(a.get("created_at").asText());
            if (created.isBefore(start) || created.isAfter(end)) continue;
            if (!symbols.isEmpty()) {
                boolean any = false;
                for (JsonNode s : a.withArray("symbols")) any |= symbols.contains(s.asText());
                if (!any) continue;
            }
            matching.add(a);
        }
        // The history holds every version of an article; REST answers with the latest of each.
        Map<Long, ObjectNode> latest = new HashMap<>();
        for (ObjectNode a : matching) latest.put(a.get("id").asLong(), a);
        List<ObjectNode> sorted = new ArrayList<>(latest.values());
        sorted.sort(Comparator.comparing((ObjectNode a) -> Instant.parse(a.get("created_at").asText())).thenComparingLong(a -> a.get("id").asLong()));
        if ("desc".equals(params.get("sort"))) java.util.Collections.reverse(sorted);
        ObjectNode body = JSON.createObjectNode();
        ArrayNode news = body.putArray("news");
        for (int i = offset; i < Math.min(sorted.size(), offset + limit); i++) news.add(sorted.get(i));
        if (offset + limit < sorted.size()) {
            body.put("next_page_token", Base64.getEncoder().encodeToString(Integer.toString(offset + limit).getBytes(StandardCharsets.UTF_8)));
        } else {
            body.putNull("next_page_token");
        }
        respond(ex, 200, body.toString());
    }

    private static void respond(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private void acceptLoop() {
        while (!wsServer.isClosed()) {
            try {
                Socket socket = wsServer.accept();
                Connection c = new Connection(socket);
                Thread t = new Thread(c::serve, "fake-alpaca-ws-connection");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** One client connection of the fake news stream. */
    public final class Connection {
        final Socket socket;
        volatile boolean subscribed;
        private InputStream in;
        private OutputStream out;

        Connection(Socket socket) {
            this.socket = socket;
        }

        void serve() {
            try {
                in = socket.getInputStream();
                out = socket.getOutputStream();
                handshake();
                connections.incrementAndGet();
                current = this;
                sendText("[{\"T\":\"success\",\"msg\":\"connected\"}]", 1);
                while (true) {
                    String text = readMessage();
                    if (text == null) break;
                    clientMessages.add(text);
                    JsonNode msg = JSON.readTree(text);
                    String action = msg.path("action").asText();
                    if (action.equals("auth")) {
                        if (acceptedKey.equals(msg.path("key").asText()) && SECRET.equals(msg.path("secret").asText())) {
                            sendText("[{\"T\":\"success\",\"msg\":\"authenticated\"}]", 1);
                        } else {
                            sendText("[{\"T\":\"error\",\"code\":402,\"msg\":\"auth failed\"}]", 1);
                            socket.close();
                            return;
                        }
                    } else if (action.equals("subscribe")) {
                        ObjectNode ack = JSON.createObjectNode().put("T", "subscription");
                        ack.set("trades", JSON.createArrayNode());
                        ack.set("quotes", JSON.createArrayNode());
                        ack.set("bars", JSON.createArrayNode());
                        ack.set("news", msg.path("news"));
                        sendText(JSON.createArrayNode().add(ack).toString(), 1);
                        subscribed = true;
                    }
                }
            } catch (IOException e) {
                // connection dropped
            } finally {
                if (current == this) current = null;
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }

        private void handshake() throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int matched = 0;
            while (matched < 4) {
                int b = in.read();
                if (b < 0) throw new IOException("eof in handshake");
                head.write(b);
                matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
            }
            String key = null;
            for (String line : head.toString(StandardCharsets.ISO_8859_1).split("\r\n")) {
                if (line.toLowerCase().startsWith("sec-websocket-key:")) key = line.substring(line.indexOf(':') + 1).strip();
            }
            if (key == null) throw new IOException("not a WebSocket upgrade");
            String accept;
            try {
                accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                        .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.ISO_8859_1)));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IOException(e);
            }
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
                    + accept + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        /** The next whole text message from the client (null at close), answering pings. */
        private String readMessage() throws IOException {
            ByteArrayOutputStream message = new ByteArrayOutputStream();
            while (true) {
                int b0 = in.read();
                int b1 = in.read();
                if (b0 < 0 || b1 < 0) return null;
                boolean fin = (b0 & 0x80) != 0;
                int opcode = b0 & 0x0F;
                long len = b1 & 0x7F;
                if (len == 126) len = (in.read() << 8) | in.read();
                else if (len == 127) {
                    len = 0;
                    for (int i = 0; i < 8; i++) len = (len << 8) | in.read();
                }
                byte[] mask = (b1 & 0x80) != 0 ? in.readNBytes(4) : null;
                byte[] payload = in.readNBytes((int) len);
                if (mask != null) for (int i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
                if (opcode == 8) {
                    writeFrame(0x88, payload);
                    return null;
                }
                if (opcode == 9) {
                    writeFrame(0x8A, payload);
                    continue;
                }
                if (opcode == 10) continue;
                message.write(payload);
                if (fin) return message.toString(StandardCharsets.UTF_8);
            }
        }

        /** Sends a text message split into {@code frames} frames (a text frame, then continuations). */
        synchronized void sendText(String text, int frames) throws IOException {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            int n = Math.max(1, Math.min(frames, bytes.length));
            int size = (bytes.length + n - 1) / n;
            for (int i = 0, off = 0; off < bytes.length || i == 0; i++, off += size) {
                int end = Math.min(bytes.length, off + size);
                boolean last = end >= bytes.length;
                int opcode = i == 0 ? 0x1 : 0x0;
                writeFrame((last ? 0x80 : 0) | opcode, java.util.Arrays.copyOfRange(bytes, off, end));
                if (last) break;
                sleep(5); // let the parts arrive separately
            }
        }

        private synchronized void writeFrame(int b0, byte[] payload) throws IOException {
            out.write(b0);
            if (payload.length < 126) {
                out.write(payload.length);
            } else if (payload.length < 65536) {
                out.write(126);
                out.write(payload.length >> 8);
                out.write(payload.length & 0xFF);
            } else {
                out.write(127);
                for (int i = 7; i >= 0; i--) out.write((int) ((long) payload.length >> (8 * i)) & 0xFF);
            }
            out.write(payload);
            out.flush();
        }
    }

    /** Polls {@code condition} until true or the timeout passes. */
    public static void await(Duration timeout, java.util.function.BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            sleep(20);
        }
    }

}
