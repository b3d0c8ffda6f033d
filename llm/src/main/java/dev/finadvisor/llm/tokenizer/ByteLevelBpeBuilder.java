package dev.finadvisor.llm.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

        // words as lists of symbols, with counts
        Map<List<String>, Integer> words = new HashMap<>();
        Matcher m = WORDS.matcher(corpus);
        while (m.find()) {
            List<String> symbols = new ArrayList<>();
            for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) symbols.add(BYTE_CHARS[b & 0xff]);
            words.merge(symbols, 1, Integer::sum);
        }
        List<String> merges = new ArrayList<>();
        while (vocab.size() < vocabSize) {
            Map<String, Integer> pairs = new HashMap<>();
            for (var e : words.entrySet()) {
                List<String> w = e.getKey();
                for (int i = 0; i + 1 < w.size(); i++) pairs.merge(w.get(i) + " " + w.get(i + 1), e.getValue(), Integer::sum);
            }
            String best = null;
            int bestCount = 1; // a pair seen once teaches nothing
            for (var e : pairs.entrySet()) {
                if (e.getValue() > bestCount || (e.getValue() == bestCount && best != null && e.getKey().compareTo(best) < 0)) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            }
            if (best == null) break;
            String[] ab = best.split(" ");
            String merged = ab[0] + ab[1];
            if (vocab.containsKey(merged)) break;
            merges.add(best);
            vocab.put(merged, vocab.size());
            Map<List<String>, Integer> next = new HashMap<>();
            for (var e : words.entrySet()) {
                List<String> w = e.getKey();
                List<String> out = new ArrayList<>();
                for (int i = 0; i < w.size(); i++) {
                    if (i + 1 < w.size() && w.get(i).equals(ab[0]) && w.get(i + 1).equals(ab[1])) {
                        out.add(merged);
                        i++;
                    } else {
                        out.add(w.get(i));
                    }
                }
                next.merge(out, e.getValue(), Integer::sum);
            }
            words = next;
        }
        // Filler: tokens no merge produces (a model's vocabulary may be larger than what its merges reach).
        for (int n = 0; vocab.size() < vocabSize; n++) {
            String filler = BYTE_CHARS[' '] + "x" + Integer.toString(n, 26).chars()
                    .mapToObj(c -> BYTE_CHARS[Character.isDigit(c) ? 'a' + (c - '0') : 'k' + (c - 'a')])
                    .reduce("", String::concat);
            vocab.putIfAbsent(filler, vocab.size());
        }
        return json(specials, bos, vocab, merges);
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
