package dev.finadvisor.inference.server;

import io.javalin.http.Context;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Request;

/**
 * Watches whether the client of a plain (non-streaming) request still holds its connection while the
 * model works. Jetty does not read an HTTP/1.1 socket while a handler runs, so a client's close goes
 * unseen until the response is written; this probes the socket with a non-blocking one-byte read
 * (the body has been read in full, so -1 means the client closed). Should bytes arrive instead (a
 * pipelined next request, which no common client sends), probing stops and the connection is closed
 * after this response rather than misread.
 */
final class ClientConnection {
    private final Request request;
    private final Context ctx;
    private final AtomicBoolean failed = new AtomicBoolean();
    private volatile boolean probing = true;

    private ClientConnection(Request request, Context ctx) {
        this.request = request;
        this.ctx = ctx;
        if (request != null) request.addFailureListener(t -> failed.set(true));
    }

    static ClientConnection of(Context ctx) {
        return new ClientConnection(ServletContextRequest.getServletContextRequest(ctx.req()), ctx);
    }

    boolean closed() {
        if (failed.get()) return true;
        if (request == null) return false;
        EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
        if (!endPoint.isOpen() || endPoint.isInputShutdown()) return true;
        if (probing && endPoint.getTransport() instanceof SocketChannel channel && !channel.isBlocking()) {
            try {
                int n = channel.read(ByteBuffer.allocate(1));
                if (n < 0) return true;
                if (n > 0) {
                    probing = false;
                    ctx.header("Connection", "close");
                }
            } catch (IOException e) {
                return true; // reset by peer
            }
        }
        return false;
    }
}
