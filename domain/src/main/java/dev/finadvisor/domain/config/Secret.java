package dev.finadvisor.domain.config;

import com.fasterxml.jackson.annotation.JsonValue;

/**
 * A credential read from the environment. It prints as {@code ****} everywhere (toString, JSON,
 * resolved configs, logs); only {@link #reveal()} gives the value, at the one place that sends it.
 */
public final class Secret {
    private final String name;
    private final String value;

    Secret(String name, String value) {
        this.name = name;
        this.value = value;
    }

    /** The environment variable it came from. */
    public String name() {
        return name;
    }

    public String reveal() {
        return value;
    }

    @JsonValue
    @Override
    public String toString() {
        return "****";
    }
}
