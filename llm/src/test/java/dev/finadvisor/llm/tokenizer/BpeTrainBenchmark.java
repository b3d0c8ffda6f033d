package dev.finadvisor.llm.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * bench/tokenizer-train: the incremental merge learner ({@link ByteLevelBpeBuilder}) against the textbook learner that
 * recounts every pair of every word after each merge ({@link ByteLevelBpeBuilderTest#naiveMerges}), same corpus, same
 * process, alternating A-B-A; both must learn the same merges. Args: CORPUS_FILE VOCAB_SIZE.
 */
public final class BpeTrainBenchmark {
    public static void main(String[] args) throws Exception {
        String corpus = Files.readString(Path.of(args[0]));
        int vocab = Integer.parseInt(args[1]);
        List<String> specials = List.of("<pad>", "<s>", "</s>");
        Set<String> taken = new HashSet<>(specials);
        for (int b = 0; b < 256; b++) taken.add(ByteLevelBpeBuilderTest.byteChar(b));
        int merges = vocab - taken.size();
        double[] fast = new double[2];
        long t0 = System.nanoTime();
        List<String> fastMerges = learned(ByteLevelBpeBuilder.build(specials, "<s>", corpus, vocab));
        fast[0] = (System.nanoTime() - t0) / 1e9;
        t0 = System.nanoTime();
        List<String> slowMerges = ByteLevelBpeBuilderTest.naiveMerges(corpus, taken, merges);
        double slow = (System.nanoTime() - t0) / 1e9;
        t0 = System.nanoTime();
        learned(ByteLevelBpeBuilder.build(specials, "<s>", corpus, vocab));
        fast[1] = (System.nanoTime() - t0) / 1e9;
        double incremental = Math.min(fast[0], fast[1]);
        System.out.printf(Locale.ROOT, "corpus %,d bytes, %d merges learned (vocabulary %d)%n", corpus.length(), fastMerges.size(), vocab);
        System.out.printf(Locale.ROOT, "incremental learner: %.2f s, %.2f s (A-B-A); textbook recount: %.2f s; ratio %.1fx; same merges: %s%n",
                fast[0], fast[1], slow, slow / incremental, fastMerges.equals(slowMerges));
        System.out.printf(Locale.ROOT, "ceiling: one pass over the corpus's pre-tokenised words per merge is what the textbook learner pays;"
                + " the incremental one touches only the words holding the merged pair%n");
    }

    private static List<String> learned(String tokenizerJson) throws Exception {
        List<String> out = new ArrayList<>();
        new ObjectMapper().readTree(tokenizerJson).get("model").get("merges").forEach(n -> out.add(n.asText()));
        return out;
    }
}
