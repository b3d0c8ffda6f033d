package dev.finadvisor.llm;

import java.util.List;

/**
 * Forwards text deltas to the listener but holds back any tail that could be the start of a stop
 * string, so a stop string is never streamed even in part; cuts the text where one appears.
 */
final class StopStrings {
    private final List<String> stops;
    private final TokenListener listener;
    private final StringBuilder text = new StringBuilder();
    private int emitted;

    StopStrings(List<String> stops, TokenListener listener) {
        this.stops = stops;
        this.listener = listener;
    }

    /** Takes one token's delta; true when the text now contains a stop string (the text is cut before it). */
    boolean add(int id, String delta) {
        text.append(delta);
        int hit = -1;
        for (String s : stops) {
            int at = text.indexOf(s, Math.max(0, emitted - s.length()));
            if (at >= 0 && (hit < 0 || at < hit)) hit = at;
        }
        if (hit >= 0) {
            text.setLength(hit);
            listener.onToken(id, text.substring(Math.min(emitted, hit)));
            emitted = text.length();
            return true;
        }
        int safe = text.length() - heldBack();
        listener.onToken(id, text.substring(emitted, Math.max(emitted, safe)));
        emitted = Math.max(emitted, safe);
        return false;
    }

    /** Ends without a stop string: emits whatever was held back plus {@code tail}. */
    void finish(String tail) {
        text.append(tail);
        if (emitted < text.length()) listener.onToken(-1, text.substring(emitted));
        emitted = text.length();
    }

    /** Length of the longest suffix of the text that is a proper prefix of some stop string. */
    private int heldBack() {
        int longest = 0;
        for (String s : stops) {
            for (int n = Math.min(s.length() - 1, text.length()); n > longest; n--) {
                if (text.substring(text.length() - n).equals(s.substring(0, n))) {
                    longest = n;
                    break;
                }
            }
        }
        return longest;
    }

    String text() {
        return text.toString();
    }
}
