package dev.finadvisor.feature.source;

import java.io.Serializable;

/**
 * The Alpaca key pair the sources send ({@code ALPACA_API_KEY}/{@code ALPACA_API_SECRET}, read
 * through {@code Secrets}). Serializable because it travels inside the job; never printed.
 */
public record AlpacaCredentials(String keyId, String secretKey) implements Serializable {
    @Override
    public String toString() {
        return "AlpacaCredentials[****]";
    }
}
