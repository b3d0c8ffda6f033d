package dev.finadvisor.inference.server;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.io.Connection;

/**
 * Caps the connections one client address holds open at once: a connection beyond the cap is closed as it opens, before
 * Jetty reads a byte of it, so one client cannot take every connection (and thread) the server has. Only addresses with
 * an open connection are remembered, so memory stays bounded by the connections open, whatever the number of clients.
 */
final class ConnectionsPerClient implements Connection.Listener {
    private final int cap;
    private final ConcurrentHashMap<InetAddress, Integer> open = new ConcurrentHashMap<>();
    /** Each open connection's client: a closed endpoint no longer knows its remote address. */
    private final ConcurrentHashMap<Connection, InetAddress> clientOf = new ConcurrentHashMap<>();
    private final AtomicLong refused = new AtomicLong();

    ConnectionsPerClient(int cap) {
        this.cap = cap;
    }

    @Override
    public void onOpened(Connection connection) {
        InetAddress client = client(connection.getEndPoint().getRemoteSocketAddress());
        if (client == null) return;
        clientOf.put(connection, client);
        int now = open.merge(client, 1, Integer::sum);
        if (now > cap) {
            refused.incrementAndGet();
            connection.getEndPoint().close();
        }
    }

    @Override
    public void onClosed(Connection connection) {
        InetAddress client = clientOf.remove(connection);
        if (client != null) open.computeIfPresent(client, (k, n) -> n == 1 ? null : n - 1);
    }

    /** Connections closed because their client already held {@code cap}. */
    long refused() {
        return refused.get();
    }

    /** Connections {@code client} holds open now. */
    int openFrom(InetAddress client) {
        return open.getOrDefault(client, 0);
    }

    /** Client addresses with at least one open connection. */
    int clients() {
        return open.size();
    }

    private static InetAddress client(SocketAddress address) {
        return address instanceof InetSocketAddress inet ? inet.getAddress() : null;
    }
}
