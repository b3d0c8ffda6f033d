package dev.finadvisor.llm.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The incremental merge learner against the textbook one: recount every pair of every word after every merge. */
class ByteLevelBpeBuilderTest {
    static final Pattern WORDS = Pattern.compile("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    /** Words of a made-up language: many ties between pair counts, words that repeat pairs (aaaa), digits, non-ASCII. */
    static String corpus(long seed, int words) {
        Random r = new Random(seed);
        String[] syllables = {"ka", "ri", "to", "aa", "an", "na", "é", "日本", "st", "ock", "12", "3"};
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < words; i++) {
            int n = 1 + r.nextInt(4);
            sb.append(i % 17 == 0 ? "\n" : " ");
            for (int j = 0; j < n; j++) sb.append(syllables[r.nextInt(syllables.length)]);
            if (r.nextInt(10) == 0) sb.append(r.nextBoolean() ? "," : "'s");
        }
        return sb.toString();
    }

    /** The textbook learner (what this builder did before it counted incrementally). */
    static List<String> naiveMerges(String corpus, Set<String> taken, int merges) {
        Map<List<String>, Integer> words = new HashMap<>();
        Matcher m = WORDS.matcher(corpus);
        while (m.find()) {
            List<String> symbols = new ArrayList<>();
            for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) symbols.add(byteChar(b & 0xff));
            words.merge(symbols, 1, Integer::sum);
        }
        Set<String> vocab = new HashSet<>(taken);
        List<String> out = new ArrayList<>();
        while (out.size() < merges) {
            Map<String, Integer> pairs = new HashMap<>();
            for (var e : words.entrySet()) {
                for (int i = 0; i + 1 < e.getKey().size(); i++) pairs.merge(e.getKey().get(i) + " " + e.getKey().get(i + 1), e.getValue(), Integer::sum);
            }
            String best = null;
            int bestCount = 1;
            for (var e : pairs.entrySet()) {
                if (e.getValue() > bestCount || (e.getValue() == bestCount && best != null && e.getKey().compareTo(best) < 0)) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            }
            if (best == null) break;
            String[] ab = best.split(" ");
            if (!vocab.add(ab[0] + ab[1])) break;
            out.add(best);
            Map<List<String>, Integer> next = new HashMap<>();
            for (var e : words.entrySet()) {
                List<String> w = e.getKey();
                List<String> merged = new ArrayList<>();
                for (int i = 0; i < w.size(); i++) {
                    if (i + 1 < w.size() && w.get(i).equals(ab[0]) && w.get(i + 1).equals(ab[1])) {
                        merged.add(ab[0] + ab[1]);
                        i++;
                    } else {
                        merged.add(w.get(i));
                    }
                }
                next.merge(merged, e.getValue(), Integer::sum);
            }
            words = next;
        }
        return out;
    }

    static String byteChar(int b) {
        int n = 0;
        for (int x = 0; x < b; x++) if (!((x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF))) n++;
        boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        return new String(Character.toChars(printable ? b : 256 + n));
    }

    @Test
    void learnsTheSameMergesAsRecountingEveryPairAfterEveryMerge() throws Exception {
        for (long seed = 1; seed <= 3; seed++) {
            String text = corpus(seed, 3000);
            List<String> specials = List.of("<pad>", "<s>", "</s>");
            JsonNode model = new ObjectMapper().readTree(ByteLevelBpeBuilder.build(specials, "<s>", text, 3 + 256 + 300)).get("model");
            List<String> merges = new ArrayList<>();
            model.get("merges").forEach(n -> merges.add(n.asText()));
            Set<String> taken = new HashSet<>(specials);
            for (int b = 0; b < 256; b++) taken.add(byteChar(b));
            assertThat(merges).as("seed " + seed).isNotEmpty().isEqualTo(naiveMerges(text, taken, 300));
            assertThat(model.get("vocab").size()).isEqualTo(3 + 256 + 300);
        }
    }
}
