package dev.finadvisor.llm.tokenizer;

import java.util.Arrays;

/**
 * Turns generated ids into text deltas one token at a time. A byte-level token may hold part of a
 * multi-byte character, which decodes to U+FFFD until the rest arrives; a delta is emitted only when
 * the text no longer ends in one, so no delta ever splits a character. Decoding a short window
 * (from the previous emission point) rather than the whole sequence keeps each step cheap and keeps
 * tokenizers' leading-space rules intact.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private int[] ids = new int[16];
    private int count;
    private int prefixOffset;
    private int readOffset;
    private final StringBuilder emitted = new StringBuilder();

    StreamingDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Adds a generated token; returns the new text it completes (possibly empty). */
    public String add(int id) {
        if (count == ids.length) ids = Arrays.copyOf(ids, count * 2);
        ids[count++] = id;
        String prefix = tokenizer.decode(Arrays.copyOfRange(ids, prefixOffset, readOffset), true);
        String text = tokenizer.decode(Arrays.copyOfRange(ids, prefixOffset, count), true);
        if (text.length() > prefix.length() && !text.endsWith("\uFFFD") && text.startsWith(prefix)) {
            String delta = text.substring(prefix.length());
            prefixOffset = readOffset;
            readOffset = count;
            emitted.append(delta);
            return delta;
        }
        return "";
    }

    /** Text held back at the end (an incomplete character stays U+FFFD); after this, emitted text equals {@link #text()}. */
    public String flush() {
        String all = text();
        String rest = all.startsWith(emitted.toString()) ? all.substring(emitted.length()) : "";
        emitted.append(rest);
        return rest;
    }

    /** The whole sequence decoded at once. */
    public String text() {
        return tokenizer.decode(Arrays.copyOf(ids, count), true);
    }
}
