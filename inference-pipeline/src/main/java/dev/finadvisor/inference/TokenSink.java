package dev.finadvisor.inference;

/** Receives generated text as it is decoded (each delta holds whole characters only). */
@FunctionalInterface
public interface TokenSink {
    TokenSink NONE = delta -> {};

    void onDelta(String textDelta);
}
