package dev.finadvisor.domain.qa;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Finds samples that ask the same thing: the same profile, news and question once case, accents,
 * punctuation and spacing are set aside. Such duplicates weigh one example several times in
 * training and, split across train and validation, make the validation loss look better than it is.
 */
public final class QaDuplicates {
    private static final Pattern NON_WORD = Pattern.compile("[^\\p{L}\\p{N}]+");
    private static final Pattern MARKS = Pattern.compile("\\p{M}+");

    private QaDuplicates() {}

    /**
     * Samples with the same key ({@code indexes} are 0-based, in file order; the first is the one
     * to keep); {@code sameResponse} is false when the copies answer differently.
     */
    public record Group(List<Integer> indexes, boolean sameResponse) {
        public Group {
            indexes = List.copyOf(indexes);
        }
    }

    /** The key two samples share when they ask the same thing. */
    public static String key(QaSample s) {
        StringBuilder sb = new StringBuilder(normalize(s.aboutMe())).append('|').append(normalize(s.context()));
        for (QaSample.Exchange e : s.chatHistory()) sb.append('|').append(normalize(e.question())).append('|').append(normalize(e.answer()));
        return sb.append('|').append(normalize(s.question())).toString();
    }

    /** Every group of two or more samples that share a key, in order of first appearance. */
    public static List<Group> find(List<QaSample> samples) {
        Map<String, List<Integer>> byKey = new LinkedHashMap<>();
        for (int i = 0; i < samples.size(); i++) byKey.computeIfAbsent(key(samples.get(i)), k -> new ArrayList<>()).add(i);
        List<Group> groups = new ArrayList<>();
        for (List<Integer> idx : byKey.values()) {
            if (idx.size() < 2) continue;
            String first = normalizeNullable(samples.get(idx.get(0)).response());
            boolean same = idx.stream().allMatch(i -> first.equals(normalizeNullable(samples.get(i).response())));
            groups.add(new Group(idx, same));
        }
        return groups;
    }

    /** The samples with every duplicate after the first of its group removed. */
    public static List<QaSample> dropDuplicates(List<QaSample> samples) {
        Map<String, QaSample> firsts = new LinkedHashMap<>();
        for (QaSample s : samples) firsts.putIfAbsent(key(s), s);
        return List.copyOf(firsts.values());
    }

    /** Lower case, accents and punctuation dropped, whitespace collapsed: the text two samples compare by. */
    public static String normalize(String s) {
        String decomposed = Normalizer.normalize(s, Normalizer.Form.NFKD);
        String plain = MARKS.matcher(decomposed).replaceAll("");
        return NON_WORD.matcher(plain.toLowerCase(Locale.ROOT)).replaceAll(" ").strip();
    }

    private static String normalizeNullable(String s) {
        return s == null ? "" : normalize(s);
    }
}
