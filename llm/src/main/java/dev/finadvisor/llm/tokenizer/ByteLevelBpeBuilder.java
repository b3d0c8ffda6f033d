package dev.finadvisor.llm.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds a byte-level BPE {@code tokenizer.json} (the GPT-2 / Llama-3 / SmolLM kind) by learning
 * merges from a small text, so tests and benchmarks have a real tokenizer without downloading one.
 * Byte-level means every UTF-8 input encodes, and multi-byte characters can split across tokens.
 */
public final class ByteLevelBpeBuilder {
    /** GPT-2's pre-tokenisation pattern. */
    private static final Pattern WORDS = Pattern.compile("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");
    private static final String[] BYTE_CHARS = byteChars();

    private ByteLevelBpeBuilder() {}

    /**
     * A tokenizer.json of exactly {@code vocabSize} tokens: {@code specials} first (ids 0..), the 256
     * bytes, merges learned from {@code corpus}, then filler tokens if the corpus runs out of pairs.
     * With {@code bos} non-null, encoding with special tokens prepends it (as Llama's tokenizer does).
     */
    public static String build(List<String> specials, String bos, String corpus, int vocabSize) {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String s : specials) vocab.put(s, vocab.size());
        for (String b : BYTE_CHARS) vocab.put(b, vocab.size());
        if (vocabSize < vocab.size()) throw new IllegalArgumentException("vocabSize must be at least " + vocab.size());

        List<String> merges = learnMerges(corpus, vocab, vocabSize);
        // Filler: tokens no merge produces (a model's vocabulary may be larger than what its merges reach).
        for (int n = 0; vocab.size() < vocabSize; n++) {
            String filler = BYTE_CHARS[' '] + "x" + Integer.toString(n, 26).chars()
                    .mapToObj(c -> BYTE_CHARS[Character.isDigit(c) ? 'a' + (c - '0') : 'k' + (c - 'a')])
                    .reduce("", String::concat);
            vocab.putIfAbsent(filler, vocab.size());
        }
        return json(specials, bos, vocab, merges);
    }

    /**
     * Learns merges into {@code vocab} until it holds {@code vocabSize} tokens: each time the most frequent adjacent pair of
     * symbols in the corpus's words (GPT-2 pre-tokenisation), ties to the smallest "left right" string, a pair seen once
     * teaching nothing; stops early when the corpus runs out of pairs or a merge would make a token that exists. Pair counts
     * are kept up to date word by word (only the words holding the merged pair are rewritten), so a corpus of megabytes
     * and a vocabulary of thousands take seconds, not the hours of recounting every pair after every merge.
     */
    private static List<String> learnMerges(String corpus, Map<String, Integer> vocab, int vocabSize) {
        List<String> symbols = new ArrayList<>(); // symbol id -> its text
        Map<String, Integer> symbolIds = new HashMap<>();
        for (String b : BYTE_CHARS) {
            symbolIds.put(b, symbols.size());
            symbols.add(b);
        }
        // the distinct words, as symbol ids, with how often each occurs
        Map<String, Integer> wordIndex = new HashMap<>();
        List<int[]> words = new ArrayList<>();
        List<Long> counts = new ArrayList<>();
        Matcher m = WORDS.matcher(corpus);
        while (m.find()) {
            Integer w = wordIndex.get(m.group());
            if (w != null) {
                counts.set(w, counts.get(w) + 1);
                continue;
            }
            byte[] bytes = m.group().getBytes(StandardCharsets.UTF_8);
            int[] ids = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) ids[i] = bytes[i] & 0xff;
            wordIndex.put(m.group(), words.size());
            words.add(ids);
            counts.add(1L);
        }
        Map<Long, Long> pairCounts = new HashMap<>();
        Map<Long, Set<Integer>> pairWords = new HashMap<>();
        for (int w = 0; w < words.size(); w++) {
            int[] word = words.get(w);
            for (int i = 0; i + 1 < word.length; i++) {
                long pair = pair(word[i], word[i + 1]);
                pairCounts.merge(pair, counts.get(w), Long::sum);
                pairWords.computeIfAbsent(pair, k -> new HashSet<>()).add(w);
            }
        }
        // the most frequent pair first; ties to the smallest "left right" text
        PriorityQueue<long[]> queue = new PriorityQueue<>((x, y) -> x[0] != y[0] ? Long.compare(y[0], x[0])
                : compareText(symbols, x[1], y[1]));
        pairCounts.forEach((pair, n) -> queue.add(new long[] {n, pair}));

        List<String> merges = new ArrayList<>();
        while (vocab.size() < vocabSize && !queue.isEmpty()) {
            long[] top = queue.poll();
            long pair = top[1];
            if (pairCounts.getOrDefault(pair, 0L) != top[0]) continue; // stale: its count has changed since
            if (top[0] <= 1) break; // a pair seen once teaches nothing
            int a = left(pair);
            int b = right(pair);
            String merged = symbols.get(a) + symbols.get(b);
            if (vocab.containsKey(merged)) break;
            merges.add(symbols.get(a) + " " + symbols.get(b));
            vocab.put(merged, vocab.size());
            int id = symbols.size();
            symbols.add(merged);
            // rewrite the words holding the pair; pair counts change by the difference, which is zero away from the merges
            Map<Long, Long> delta = new HashMap<>();
            for (int w : pairWords.remove(pair)) {
                int[] old = words.get(w);
                int[] next = apply(old, a, b, id);
                if (next.length == old.length) continue; // the pair left this word in an earlier merge
                long n = counts.get(w);
                for (int i = 0; i + 1 < old.length; i++) delta.merge(pair(old[i], old[i + 1]), -n, Long::sum);
                for (int i = 0; i + 1 < next.length; i++) {
                    long p2 = pair(next[i], next[i + 1]);
                    delta.merge(p2, n, Long::sum);
                    if (next[i] == id || next[i + 1] == id) pairWords.computeIfAbsent(p2, k -> new HashSet<>()).add(w);
                }
                words.set(w, next);
            }
            delta.forEach((p2, d) -> {
                if (d == 0 || p2 == pair) return;
                long total = pairCounts.getOrDefault(p2, 0L) + d;
                if (total <= 0) {
                    pairCounts.remove(p2);
                } else {
                    pairCounts.put(p2, total);
                    queue.add(new long[] {total, p2});
                }
            });
            pairCounts.remove(pair);
        }
        return merges;
    }

    private static long pair(int left, int right) {
        return ((long) left << 32) | right;
    }

    /** Compares the texts "left right" of two pairs without building them. */
    private static int compareText(List<String> symbols, long x, long y) {
        String xl = symbols.get(left(x)), xr = symbols.get(right(x)), yl = symbols.get(left(y)), yr = symbols.get(right(y));
        int xn = xl.length() + 1 + xr.length();
        int yn = yl.length() + 1 + yr.length();
        for (int i = 0; i < Math.min(xn, yn); i++) {
            char cx = i < xl.length() ? xl.charAt(i) : i == xl.length() ? ' ' : xr.charAt(i - xl.length() - 1);
            char cy = i < yl.length() ? yl.charAt(i) : i == yl.length() ? ' ' : yr.charAt(i - yl.length() - 1);
            if (cx != cy) return Character.compare(cx, cy);
        }
        return Integer.compare(xn, yn);
    }

    /** {@code word} with every non-overlapping occurrence of (a, b), left to right, replaced by {@code merged}. */
    private static int[] apply(int[] word, int a, int b, int merged) {
        int[] out = new int[word.length];
        int k = 0;
        for (int i = 0; i < word.length; i++) {
            if (i + 1 < word.length && word[i] == a && word[i + 1] == b) {
                out[k++] = merged;
                i++;
            } else {
                out[k++] = word[i];
            }
        }
        return java.util.Arrays.copyOf(out, k);
    }

    private static int left(long pair) {
        return (int) (pair >>> 32);
    }

    private static int right(long pair) {
        return (int) pair;
    }

    private static String json(List<String> specials, String bos, Map<String, Integer> vocab, List<String> merges) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String s : specials) {
            added.addObject().put("id", vocab.get(s)).put("content", s).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        if (bos == null) {
            root.putObject("post_processor").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", false).put("use_regex", true);
        } else {
            ObjectNode pp = root.putObject("post_processor");
            pp.put("type", "TemplateProcessing");
            ArrayNode single = pp.putArray("single");
            single.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
            single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            ArrayNode pair = pp.putArray("pair");
            pair.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
            pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            pair.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 1);
            pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
            ObjectNode st = pp.putObject("special_tokens").putObject(bos);
            st.put("id", bos);
            st.putArray("ids").add(vocab.get(bos));
            st.putArray("tokens").add(bos);
        }
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true).put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        ObjectNode v = model.putObject("vocab");
        vocab.forEach(v::put);
        ArrayNode mg = model.putArray("merges");
        merges.forEach(mg::add);
        try {
            return om.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to code points from 256 up. */
    private static String[] byteChars() {
        String[] out = new String[256];
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            out[b] = new String(Character.toChars(printable ? b : 256 + n++));
        }
        return out;
    }
}
