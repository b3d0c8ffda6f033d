package dev.finadvisor.domain.config;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Credentials come only from environment variables, never from configuration files or options. */
public final class Secrets {
    public static final String ALPACA_API_KEY = "ALPACA_API_KEY";
    public static final String ALPACA_API_SECRET = "ALPACA_API_SECRET";
    public static final String OPENAI_API_KEY = "OPENAI_API_KEY";
    public static final String HF_TOKEN = "HF_TOKEN";
    public static final String FINADVISOR_API_KEYS = "FINADVISOR_API_KEYS";
    public static final String QDRANT_API_KEY = "QDRANT_API_KEY";
    public static final List<String> NAMES = List.of(ALPACA_API_KEY, ALPACA_API_SECRET, OPENAI_API_KEY, HF_TOKEN, FINADVISOR_API_KEYS,
            QDRANT_API_KEY);

    private final Map<String, String> env;

    public Secrets(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    public static Secrets fromEnvironment() {
        return new Secrets(System.getenv());
    }

    public Optional<Secret> get(String name) {
        if (!NAMES.contains(name)) throw new IllegalArgumentException("not a known secret: " + name);
        String v = env.get(name);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(new Secret(name, v.strip()));
    }

    /** The secret, or an error telling the user which variable to export and why. */
    public Secret require(String name, String purpose) {
        return get(name).orElseThrow(() -> new ConfigException(
                "environment variable " + name + " is not set; it is needed " + purpose
                        + " (secrets are read only from the environment, never from config files)"));
    }
}
