package dev.finadvisor.inference.server;

import java.util.Map;

/**
 * An error answered to the client as {@code {"error": {"message", "type", "param", "code"}}} (OpenAI's
 * error shape, so every client understands it); {@code param} names the offending field.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final Map<String, String> headers;

    public ApiException(int status, String type, String param, String message, Map<String, String> headers) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.headers = Map.copyOf(headers);
    }

    public ApiException(int status, String type, String param, String message) {
        this(status, type, param, message, Map.of());
    }

    /** A 400 naming the field that was wrong. */
    public static ApiException invalid(String field, String message) {
        return new ApiException(400, "invalid_request_error", field, field + " " + message);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public Map<String, String> headers() {
        return headers;
    }
}
