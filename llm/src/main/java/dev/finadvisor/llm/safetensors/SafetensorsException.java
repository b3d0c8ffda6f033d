package dev.finadvisor.llm.safetensors;

import dev.finadvisor.domain.UserError;

/** A safetensors file that cannot be read as it claims to be: names the file and, where known, the tensor. */
public final class SafetensorsException extends UserError {
    public SafetensorsException(String message) {
        super(message);
    }

    public SafetensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}
