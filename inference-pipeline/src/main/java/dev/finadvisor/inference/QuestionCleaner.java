package dev.finadvisor.inference;

import java.text.Normalizer;
import java.util.regex.Pattern;

/** Normalises user text before it is embedded and put into the prompt: NFKC, no control characters, single spaces. */
public final class QuestionCleaner {
    private static final Pattern CONTROL = Pattern.compile("[\\p{Cc}\\p{Cf}&&[^\\n\\t]]");
    private static final Pattern SPACES = Pattern.compile("[ \\t\\x0B\\f\\r\\u00A0\\u2000-\\u200A\\u3000]+");
    private static final Pattern NEWLINES = Pattern.compile("\\s*\\n\\s*");

    private QuestionCleaner() {}

    /** Single-line text (a question): every whitespace run becomes one space. */
    public static String clean(String text) {
        return normalise(text).replaceAll("\\s+", " ").strip();
    }

    /** Text whose line breaks matter (about_me, history): runs of spaces collapse, line breaks stay. */
    public static String cleanKeepLines(String text) {
        String s = SPACES.matcher(normalise(text)).replaceAll(" ");
        return NEWLINES.matcher(s).replaceAll("\n").strip();
    }

    private static String normalise(String text) {
        // NFKC folds look-alike characters (full-width letters, ligatures) so tickers and names match.
        String s = Normalizer.normalize(text == null ? "" : text, Normalizer.Form.NFKC);
        s = s.replace("\r\n", "\n").replace('\r', '\n');
        return CONTROL.matcher(s).replaceAll("");
    }
}
