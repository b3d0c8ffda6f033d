package dev.finadvisor.feature.process;

/** A news message that is not a usable article; its message names the field and what was wrong. */
public final class InvalidArticle extends Exception {
    public InvalidArticle(String reason) {
        super(reason);
    }
}
