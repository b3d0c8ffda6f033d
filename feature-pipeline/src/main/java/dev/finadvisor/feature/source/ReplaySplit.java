package dev.finadvisor.feature.source;

/** A JSON Lines file of Alpaca news objects; {@code linesDone} lines have been emitted. */
public record ReplaySplit(String path, long linesDone) implements NewsSplit {
    @Override
    public String splitId() {
        return "replay:" + path;
    }
}
