package dev.finadvisor.domain.qa;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Normalises the text of samples without changing what it says: Unicode NFC, {@code \n} line ends,
 * no control characters, no runs of spaces, at most one blank line in a row, no whitespace around
 * a field. The course's file, for one, starts every question and response with a newline that
 * would otherwise be trained on.
 */
public final class QaCleaner {
    private static final Pattern CONTROL = Pattern.compile("[\\p{Cc}&&[^\\n\\t]]|[\\u200B\\uFEFF]");
    private static final Pattern SPACES = Pattern.compile("[ \\t\\u00A0]+");
    private static final Pattern SPACE_AT_LINE_END = Pattern.compile(" *\\n *");
    private static final Pattern BLANK_LINES = Pattern.compile("\\n{3,}");

    private QaCleaner() {}

    /** Cleaned samples, and how many of them cleaning changed. */
    public record Result(List<QaSample> samples, int changed) {
        public Result {
            samples = List.copyOf(samples);
        }
    }

    public static Result clean(List<QaSample> samples) {
        List<QaSample> out = new ArrayList<>(samples.size());
        int changed = 0;
        for (QaSample s : samples) {
            QaSample c = clean(s);
            if (!c.equals(s)) changed++;
            out.add(c);
        }
        return new Result(out, changed);
    }

    public static QaSample clean(QaSample s) {
        List<QaSample.Exchange> history = new ArrayList<>();
        for (QaSample.Exchange e : s.chatHistory()) history.add(new QaSample.Exchange(text(e.question()), text(e.answer())));
        return new QaSample(text(s.aboutMe()), text(s.context()), text(s.question()),
                s.response() == null ? null : text(s.response()), history, s.extra());
    }

    /** One field's text, cleaned. */
    public static String text(String s) {
        String t = Normalizer.normalize(s, Normalizer.Form.NFC).replace("\r\n", "\n").replace('\r', '\n');
        t = CONTROL.matcher(t).replaceAll("");
        t = SPACES.matcher(t).replaceAll(" ");
        t = SPACE_AT_LINE_END.matcher(t).replaceAll("\n");
        t = BLANK_LINES.matcher(t).replaceAll("\n\n");
        return t.strip();
    }
}
