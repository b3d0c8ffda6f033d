package dev.finadvisor.feature.process;

import dev.finadvisor.retrieval.Embedder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Splits text into chunks the embedding model sees whole: each chunk has at most {@code maxTokens}
 * word pieces by the model's own tokenizer, consecutive chunks share about {@code overlapTokens},
 * and a chunk ends at a sentence or paragraph end when one is near its limit.
 */
public final class Chunker {
    private static final int CACHE_LIMIT = 200_000;

    private final Embedder tokenizer;
    private final int maxTokens;
    private final int overlapTokens;
    private final Map<String, Integer> wordCost = new HashMap<>();

    public Chunker(Embedder tokenizer, int maxTokens, int overlapTokens) {
        if (maxTokens < 8) throw new IllegalArgumentException("chunk size must be at least 8 word pieces, got " + maxTokens);
        if (overlapTokens < 0 || overlapTokens > maxTokens / 2) {
            throw new IllegalArgumentException("chunk overlap must be between 0 and half the chunk size (" + maxTokens / 2 + "), got " + overlapTokens);
        }
        this.tokenizer = tokenizer;
        this.maxTokens = maxTokens;
        this.overlapTokens = overlapTokens;
    }

    public int maxTokens() {
        return maxTokens;
    }

    /** The text an article is embedded from: headline, summary and cleaned body as paragraphs. */
    public static String articleText(String headline, String summary, String body) {
        StringBuilder sb = new StringBuilder(headline == null ? "" : headline.strip());
        for (String part : new String[] {summary, body}) {
            if (part != null && !part.isBlank()) sb.append("\n\n").append(part.strip());
        }
        return sb.toString();
    }

    public List<String> chunk(String text) {
        List<Word> words = words(text);
        List<String> chunks = new ArrayList<>();
        int start = 0;
        while (start < words.size()) {
            int end = start;
            int used = 0;
            while (end < words.size() && used + words.get(end).cost <= maxTokens) {
                used += words.get(end).cost;
                end++;
            }
            if (end < words.size()) end = sentenceEnd(words, start, end);
            String chunk = join(words, start, end);
            // The per-word sum is exact for BERT word pieces; re-count the joined text to be sure.
            while (end - start > 1 && tokenizer.countTokens(chunk) > maxTokens) {
                end--;
                chunk = join(words, start, end);
            }
            chunks.add(chunk);
            if (end >= words.size()) break;
            int next = end;
            int shared = 0;
            while (next - 1 > start && shared + words.get(next - 1).cost <= overlapTokens) {
                next--;
                shared += words.get(next).cost;
            }
            start = next;
        }
        return chunks;
    }

    /** Moves a full chunk's end back to just after a sentence or paragraph end within its last quarter. */
    private int sentenceEnd(List<Word> words, int start, int end) {
        int used = 0;
        for (int i = end - 1; i > start; i--) {
            used += words.get(i).cost;
            if (used > maxTokens / 4) break;
            Word w = words.get(i - 1);
            if (words.get(i).separator.contains("\n") || w.text.endsWith(".") || w.text.endsWith("!") || w.text.endsWith("?")) {
                return i;
            }
        }
        return end;
    }

    private static String join(List<Word> words, int start, int end) {
        StringBuilder sb = new StringBuilder();
        for (int i = start; i < end; i++) {
            if (i > start) sb.append(words.get(i).separator.contains("\n\n") ? "\n\n" : words.get(i).separator.contains("\n") ? "\n" : words.get(i).separator);
            sb.append(words.get(i).text);
        }
        return sb.toString();
    }

    private record Word(String text, String separator, int cost) {}

    /** Whitespace-separated words with their word-piece counts; a word longer than a chunk is cut into pieces. */
    private List<Word> words(String text) {
        List<Word> words = new ArrayList<>();
        int i = 0;
        int n = text.length();
        while (i < n) {
            int sepStart = i;
            while (i < n && Character.isWhitespace(text.charAt(i))) i++;
            String separator = words.isEmpty() ? "" : (i > sepStart ? text.substring(sepStart, i) : "");
            int wordStart = i;
            while (i < n && !Character.isWhitespace(text.charAt(i))) i++;
            if (i == wordStart) break;
            String word = text.substring(wordStart, i);
            int cost = cost(word);
            if (cost <= maxTokens) {
                words.add(new Word(word, separator, cost));
            } else {
                // A word piece covers at least one character, so maxTokens characters fit in one chunk.
                for (int p = 0; p < word.length(); p += maxTokens) {
                    String piece = word.substring(p, Math.min(word.length(), p + maxTokens));
                    words.add(new Word(piece, p == 0 ? separator : " ", cost(piece)));
                }
            }
        }
        return words;
    }

    private int cost(String word) {
        Integer c = wordCost.get(word);
        if (c == null) {
            if (wordCost.size() >= CACHE_LIMIT) wordCost.clear();
            c = Math.max(1, tokenizer.countTokens(word));
            wordCost.put(word, c);
        }
        return c;
    }
}
