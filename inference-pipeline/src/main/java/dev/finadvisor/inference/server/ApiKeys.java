package dev.finadvisor.inference.server;

import dev.finadvisor.domain.config.Secret;
import dev.finadvisor.domain.config.Secrets;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The bearer keys from {@code FINADVISOR_API_KEYS} (comma-separated). A request is known by the key's
 * position ({@code key#2}) in logs and rate limits: the key itself is never logged.
 */
public final class ApiKeys {
    private final List<byte[]> keys;

    private ApiKeys(List<byte[]> keys) {
        this.keys = keys;
    }

    public static ApiKeys from(Secrets secrets) {
        Optional<Secret> s = secrets.get(Secrets.FINADVISOR_API_KEYS);
        List<byte[]> keys = new ArrayList<>();
        s.ifPresent(secret -> {
            for (String k : secret.reveal().split(",")) {
                if (!k.isBlank()) keys.add(k.strip().getBytes(StandardCharsets.UTF_8));
            }
        });
        return new ApiKeys(List.copyOf(keys));
    }

    public boolean enabled() {
        return !keys.isEmpty();
    }

    /** The caller's identity ({@code key#N}) for an {@code Authorization} header, or 401. */
    public String authenticate(String authorization) {
        if (authorization == null || authorization.isBlank()) {
            throw unauthorized("missing Authorization header; send 'Authorization: Bearer <key>'");
        }
        if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw unauthorized("the Authorization header must be 'Bearer <key>'");
        }
        byte[] given = authorization.substring(7).strip().getBytes(StandardCharsets.UTF_8);
        int match = -1;
        for (int i = 0; i < keys.size(); i++) {
            // Constant-time per key, and every key is compared, so timing does not reveal which one was close.
            if (MessageDigest.isEqual(keys.get(i), given) && match < 0) match = i;
        }
        if (match < 0) throw unauthorized("the API key is not valid");
        return "key#" + (match + 1);
    }

    private static ApiException unauthorized(String message) {
        return new ApiException(401, "authentication_error", "Authorization", message,
                java.util.Map.of("WWW-Authenticate", "Bearer realm=\"finadvisor\""));
    }
}
