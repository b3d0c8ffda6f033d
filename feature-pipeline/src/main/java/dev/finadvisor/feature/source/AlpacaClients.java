package dev.finadvisor.feature.source;

import java.net.http.HttpClient;
import java.time.Duration;

/** Builds the HTTP clients the Alpaca feeds use (one JDK client per feed; it pools connections). */
final class AlpacaClients {
    private AlpacaClients() {}

    static HttpClient http() {
        return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    static AlpacaRestClient rest(AlpacaSettings settings, AlpacaCredentials credentials) {
        if (credentials == null) throw new IllegalArgumentException("Alpaca sources need credentials");
        return new AlpacaRestClient(http(), settings, credentials);
    }
}
