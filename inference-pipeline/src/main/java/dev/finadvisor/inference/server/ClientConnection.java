package dev.finadvisor.inference.server;

import io.javalin.http.Context;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;

/** Whether the client of a request still holds its connection (Jetty's endpoint closes when the peer does). */
final class ClientConnection {
    private ClientConnection() {}

    static boolean closed(Context ctx) {
        try {
            ServletContextRequest r = ServletContextRequest.getServletContextRequest(ctx.req());
            return r != null && !r.getConnectionMetaData().getConnection().getEndPoint().isOpen();
        } catch (RuntimeException e) {
            return false; // cannot tell: keep generating rather than drop a live client
        }
    }
}
