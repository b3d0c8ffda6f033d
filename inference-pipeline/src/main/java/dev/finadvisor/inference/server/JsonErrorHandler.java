package dev.finadvisor.inference.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's own errors (a request it refuses before any route sees it: an ambiguous or invalid path such as {@code ..} or
 * {@code %00}, a bad Content-Length, a URI or headers too long) in the API's one error shape, JSON, instead of Jetty's
 * HTML or text page.
 */
final class JsonErrorHandler extends ErrorHandler {
    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause, Callback callback) {
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(true, ByteBuffer.wrap(body(code, message)), callback);
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(HttpHeader.CONTENT_TYPE, "application/json");
        return ByteBuffer.wrap(body(status, reason));
    }

    static byte[] body(int status, String reason) {
        String message = reason == null || reason.isBlank() ? HttpStatus.getMessage(status) : reason;
        ApiException e = new ApiException(status, status >= 500 ? "server_error" : "invalid_request_error", null,
                "the request was refused before reaching a route (" + status + " " + message + ")");
        try {
            return AdvisorServer.mapper().writeValueAsBytes(AdvisorServer.errorBody(e));
        } catch (JsonProcessingException x) {
            throw new IllegalStateException(x);
        }
    }
}
