package dev.finadvisor.retrieval;

import dev.finadvisor.domain.UserError;

/**
 * The vector store could not be reached, even after retries (a Qdrant outage): nothing was changed,
 * and the same call may succeed later, so a server answers 503 rather than 500.
 */
public final class StoreUnavailable extends UserError {
    public StoreUnavailable(String message, Throwable cause) {
        super(message, cause);
    }
}
