package dev.finadvisor.llm;

/**
 * Called once per generated token with the text it completes; a delta never splits a character and
 * may be empty (text held back until a character or a possible stop string is complete). Text still
 * held back when generation ends arrives in one last call with id -1.
 */
@FunctionalInterface
public interface TokenListener {
    TokenListener NONE = (id, delta) -> {};

    void onToken(int id, String textDelta);
}
