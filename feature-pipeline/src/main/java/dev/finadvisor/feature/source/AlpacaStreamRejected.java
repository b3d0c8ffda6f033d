package dev.finadvisor.feature.source;

import dev.finadvisor.domain.UserError;

/** Alpaca's stream refused us for a reason reconnecting cannot fix (bad key, no news entitlement, bad request). */
final class AlpacaStreamRejected extends UserError {
    AlpacaStreamRejected(String message) {
        super(message);
    }
}
