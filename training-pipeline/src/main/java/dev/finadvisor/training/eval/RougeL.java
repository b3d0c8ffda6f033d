package dev.finadvisor.training.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * ROUGE-L: the longest common subsequence of words between a candidate and a reference, as precision (of the
 * candidate's words), recall (of the reference's) and their harmonic mean F1. Words as Google's rouge_score package
 * makes them without stemming: lowercased, every character other than a-z and 0-9 a separator.
 */
public final class RougeL {
    /** Precision, recall and F1, each in [0, 1]; all 0 when either text has no word. */
    public record Score(double precision, double recall, double f1) {}

    private RougeL() {}

    public static Score score(String candidate, String reference) {
        List<String> c = words(candidate);
        List<String> r = words(reference);
        int lcs = lcs(c, r);
        if (lcs == 0) return new Score(0, 0, 0);
        double p = (double) lcs / c.size();
        double rec = (double) lcs / r.size();
        return new Score(p, rec, 2 * p * rec / (p + rec));
    }

    /** The words ROUGE compares: lowercase runs of a-z and 0-9. */
    static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        String lower = text.toLowerCase(Locale.ROOT);
        int start = -1;
        for (int i = 0; i <= lower.length(); i++) {
            char ch = i < lower.length() ? lower.charAt(i) : ' ';
            boolean word = ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9';
            if (word && start < 0) start = i;
            if (!word && start >= 0) {
                out.add(lower.substring(start, i));
                start = -1;
            }
        }
        return out;
    }

    /** Length of the longest common subsequence (two rows of the dynamic programme). */
    static int lcs(List<String> a, List<String> b) {
        int[] prev = new int[b.size() + 1];
        int[] cur = new int[b.size() + 1];
        for (String x : a) {
            for (int j = 1; j <= b.size(); j++) {
                cur[j] = x.equals(b.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.size()];
    }
}
