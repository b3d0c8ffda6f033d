package dev.finadvisor.inference;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the tickers a question names: {@code $AAPL}, an upper-case {@code AAPL}, or a company name such
 * as "Apple" ({@code company-names.tsv} plus configured aliases), kept only when the store holds news
 * for that symbol, so a filter never empties the search by itself.
 */
public final class SymbolDetector {
    // Upper-case words of 2+ letters, or $-prefixed ones of any length: "I" and "A" are words, not tickers.
    private static final Pattern TICKER = Pattern.compile("(?<![\\w$])(\\$[A-Za-z]{1,5}(?:\\.[A-Za-z])?|[A-Z]{2,5}(?:\\.[A-Z])?)(?![\\w])");
    private final Map<String, String> names;

    public SymbolDetector(Map<String, String> extraNames) {
        Map<String, String> all = new LinkedHashMap<>(builtInNames());
        extraNames.forEach((name, ticker) -> all.put(name.toLowerCase(Locale.ROOT), ticker.toUpperCase(Locale.ROOT)));
        this.names = Map.copyOf(all);
    }

    /** The symbols named in {@code question} that appear in {@code known} (the store's symbols). */
    public Set<String> detect(String question, Set<String> known) {
        Set<String> found = new LinkedHashSet<>();
        Matcher m = TICKER.matcher(question);
        while (m.find()) {
            String t = m.group(1);
            t = (t.startsWith("$") ? t.substring(1) : t).toUpperCase(Locale.ROOT);
            if (known.contains(t)) found.add(t);
        }
        String lower = question.toLowerCase(Locale.ROOT);
        for (Map.Entry<String, String> e : names.entrySet()) {
            if (known.contains(e.getValue()) && containsWord(lower, e.getKey())) found.add(e.getValue());
        }
        return found;
    }

    private static boolean containsWord(String text, String word) {
        int from = 0;
        while (true) {
            int i = text.indexOf(word, from);
            if (i < 0) return false;
            int end = i + word.length();
            boolean startOk = i == 0 || !Character.isLetterOrDigit(text.charAt(i - 1));
            boolean endOk = end == text.length() || !Character.isLetterOrDigit(text.charAt(end))
                    || (text.charAt(end) == 's' && (end + 1 == text.length() || !Character.isLetterOrDigit(text.charAt(end + 1))));
            if (startOk && endOk) return true;
            from = i + 1;
        }
    }

    private static Map<String, String> builtInNames() {
        Map<String, String> out = new LinkedHashMap<>();
        try (InputStream in = SymbolDetector.class.getResourceAsStream("company-names.tsv")) {
            if (in == null) throw new IllegalStateException("missing resource company-names.tsv");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] parts = line.split("\t");
                out.put(parts[0].strip().toLowerCase(Locale.ROOT), parts[1].strip());
            }
        } catch (IOException e) {
            throw new IllegalStateException("unreadable resource company-names.tsv", e);
        }
        return out;
    }
}
