package dev.finadvisor.inference.server;

import io.javalin.http.Context;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.EndPoint;

/**
 * Reads request bodies within bounds: at most {@link #AT_ONCE} at a time, each at most {@code limit} bytes, each within
 * {@code timeoutNanos} from its first read to its last byte. A body read blocks a server thread until its last byte, so
 * without these, clients trickling their bodies (a byte now and then, each gap shorter than the idle timeout) would
 * hold every thread, and {@code /health} and {@code /ready} with them. The deadline is kept by shortening the
 * connection's idle timeout to the time left before each read: Jetty then fails the read itself when it passes.
 */
final class RequestBodies {
    /** Request bodies read at once; the server's other threads stay free for the routes that read none. */
    static final int AT_ONCE = 32;

    private final int limit;
    private final long timeoutNanos;
    private final Semaphore slots = new Semaphore(AT_ONCE);

    RequestBodies(int limit, long timeoutNanos) {
        this.limit = limit;
        this.timeoutNanos = timeoutNanos;
    }

    byte[] read(Context ctx) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > limit) throw tooLarge(declared);
        if (!slots.tryAcquire()) {
            throw new ApiException(503, "server_busy", "body", "too many requests are still sending their bodies; retry shortly",
                    Map.of("Retry-After", "1"));
        }
        EndPoint endPoint = endPoint(ctx);
        long idle = endPoint == null ? 0 : endPoint.getIdleTimeout();
        long deadline = System.nanoTime() + timeoutNanos;
        try (InputStream in = ctx.req().getInputStream()) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) throw timedOut(ctx);
                if (endPoint != null) endPoint.setIdleTimeout(Math.max(1, Math.min(idle <= 0 ? Long.MAX_VALUE : idle, TimeUnit.NANOSECONDS.toMillis(left))));
                int n = in.read(buffer);
                if (n < 0) return body.toByteArray();
                if (body.size() + n > limit) throw tooLarge(-1);
                body.write(buffer, 0, n);
            }
        } catch (IOException e) {
            // Jetty counts the idle timeout from the connection's last activity, so it can fire a little before the deadline
            if (System.nanoTime() - deadline >= 0 || idleTimeout(e)) throw timedOut(ctx);
            throw ApiException.invalid("body", "could not be read: " + e.getMessage());
        } finally {
            if (endPoint != null) endPoint.setIdleTimeout(idle);
            slots.release();
        }
    }

    private static boolean idleTimeout(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.util.concurrent.TimeoutException) return true;
        }
        return false;
    }

    private static EndPoint endPoint(Context ctx) {
        ServletContextRequest request = ServletContextRequest.getServletContextRequest(ctx.req());
        return request == null ? null : request.getConnectionMetaData().getConnection().getEndPoint();
    }

    private ApiException timedOut(Context ctx) {
        ctx.header("Connection", "close"); // the rest of the body may still be on its way: never read it as a next request
        return new ApiException(408, "request_timeout", "body", "body did not arrive within "
                + TimeUnit.NANOSECONDS.toSeconds(timeoutNanos) + " s (server.body_timeout_s)");
    }

    private ApiException tooLarge(long size) {
        return new ApiException(413, "request_too_large", "body",
                (size > 0 ? "body is " + size + " bytes; the limit is " : "body is larger than the limit of ")
                        + limit + " bytes (server.max_body_bytes)");
    }
}
