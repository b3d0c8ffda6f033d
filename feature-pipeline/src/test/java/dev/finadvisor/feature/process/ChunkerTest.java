package dev.finadvisor.feature.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finadvisor.retrieval.MiniLmEmbedder;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Chunking against the real all-MiniLM-L6-v2 tokenizer: the limit is the model's own word pieces. */
class ChunkerTest {
    static MiniLmEmbedder model;

    @BeforeAll
    static void load() {
        model = MiniLmEmbedder.load();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static String randomText(Random rnd, int words) {
        String[] vocab = {"revenue", "guidance", "semiconductor", "EBITDA", "Q3", "year-over-year", "analysts", "said",
                "the", "company's", "shares", "rose", "4.5%", "on", "Tuesday.", "Nvidia", "datacenter", "demand,", "hyperscalers",
                "(NASDAQ:NVDA)", "outlook", "cut", "\u2014", "approximately", "$1.2bn", "headwinds."};
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < words; i++) {
            if (i > 0) sb.append(rnd.nextInt(40) == 0 ? "\n\n" : " ");
            sb.append(vocab[rnd.nextInt(vocab.length)]);
        }
        return sb.toString();
    }

    @Test
    void everyChunkFitsTheModelWindowAndTheChunksCoverTheTextInOrder() {
        Random rnd = new Random();
        long seed = rnd.nextLong();
        rnd.setSeed(seed);
        Chunker chunker = new Chunker(model, model.maxTokens(), 32);
        for (int round = 0; round < 5; round++) {
            String text = randomText(rnd, 300 + rnd.nextInt(600));
            List<String> chunks = chunker.chunk(text);
            assertThat(chunks).as("seed %d", seed).hasSizeGreaterThan(1);
            for (String c : chunks) {
                assertThat(model.countTokens(c)).as("seed %d chunk %s", seed, c).isLessThanOrEqualTo(model.maxTokens());
                // The embedder itself rejects anything past its window: every chunk passes whole.
                if (round == 0) assertThat(model.embed(c)).hasSize(384);
            }
            // Each chunk is a contiguous run of the text's words that starts within what the
            // previous chunks covered (the overlap) and goes past it: together they cover it all, in order.
            List<String> words = List.of(text.split("\\s+"));
            int covered = 0;
            for (String c : chunks) {
                List<String> cw = List.of(c.split("\\s+"));
                int found = -1;
                for (int s = covered; s >= Math.max(0, covered - 200); s--) {
                    if (s + cw.size() <= words.size() && words.subList(s, s + cw.size()).equals(cw)) {
                        found = s;
                        break;
                    }
                }
                assertThat(found).as("seed %d: chunk starts at or before word %d", seed, covered).isGreaterThanOrEqualTo(0);
                assertThat(found + cw.size()).as("seed %d: chunk adds words", seed).isGreaterThan(covered);
                covered = found + cw.size();
            }
            assertThat(covered).as("seed %d: chunks reach the end", seed).isEqualTo(words.size());
        }
    }

    @Test
    void consecutiveChunksShareAboutTheOverlap() {
        Chunker chunker = new Chunker(model, 64, 16);
        String text = randomText(new Random(7), 400);
        List<String> chunks = chunker.chunk(text);
        for (int i = 1; i < chunks.size(); i++) {
            String[] prev = chunks.get(i - 1).split("\\s+");
            String[] next = chunks.get(i).split("\\s+");
            int shared = 0;
            for (int k = Math.min(prev.length, next.length); k > 0; k--) {
                if (String.join(" ", java.util.Arrays.copyOfRange(prev, prev.length - k, prev.length))
                        .equals(String.join(" ", java.util.Arrays.copyOfRange(next, 0, k)))) {
                    shared = k;
                    break;
                }
            }
            int sharedTokens = model.countTokens(String.join(" ", java.util.Arrays.copyOfRange(next, 0, shared)));
            assertThat(shared).as("chunk %d starts with the end of chunk %d", i, i - 1).isPositive();
            assertThat(sharedTokens).isLessThanOrEqualTo(16);
        }
    }

    @Test
    void shortTextIsOneChunkAndAHugeWordIsCutToFit() {
        Chunker chunker = new Chunker(model, model.maxTokens(), 32);
        assertThat(chunker.chunk("Tesla recalls cars.")).containsExactly("Tesla recalls cars.");
        // BERT reads a word of over 100 characters as one [UNK]; below that a random word is many pieces.
        String longWord = "qzxvbkwjfhgplmtrd".repeat(5);
        assertThat(model.countTokens(longWord)).isGreaterThan(16);
        Chunker tiny = new Chunker(model, 16, 4);
        List<String> chunks = tiny.chunk("start " + longWord + " end");
        assertThat(chunks).hasSizeGreaterThan(1);
        for (String c : chunks) assertThat(model.countTokens(c)).isLessThanOrEqualTo(16);
        assertThat(String.join("", chunks).replace(" ", "")).contains(longWord);
    }

    @Test
    void articleTextIsHeadlineSummaryAndBodyAsParagraphs() {
        assertThat(Chunker.articleText("H", "S", "B")).isEqualTo("H\n\nS\n\nB");
        assertThat(Chunker.articleText("H", "", null)).isEqualTo("H");
    }
}
