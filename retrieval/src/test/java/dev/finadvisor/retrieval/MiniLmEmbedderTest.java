package dev.finadvisor.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MiniLmEmbedderTest {
    // Each of these is one word piece in the uncased BERT vocabulary (checked below).
    private static final List<String> WORDS = List.of("market", "stock", "price", "company", "shares", "bank",
            "rate", "growth", "profit", "loss", "energy", "oil", "trade", "bond", "yield", "dollar");

    private static MiniLmEmbedder embedder;

    @BeforeAll
    static void load() {
        embedder = MiniLmEmbedder.load();
    }

    @AfterAll
    static void close() {
        embedder.close();
    }

    /** {@code n} single-piece words drawn with a seed, separated by spaces. */
    private static String words(int n, long seed) {
        Random random = new Random(seed);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(WORDS.get(random.nextInt(WORDS.size())));
        return String.join(" ", out);
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    @Test
    void shortTextMatchesLangchain4jsOwnPipeline() {
        // langchain4j's model (its own tokenizer call, pooling and normalisation) is the reference
        // for texts that fit its 128-token window.
        var reference = new AllMiniLmL6V2EmbeddingModel();
        for (String text : List.of("Apple shares rose 3% after the earnings call.",
                "The Federal Reserve left interest rates unchanged on Wednesday.", words(100, 1))) {
            float[] expected = reference.embed(text).content().vector();
            float[] actual = embedder.embed(text);
            assertThat(actual).hasSize(384);
            for (int i = 0; i < 384; i++) assertThat(actual[i]).isCloseTo(expected[i], within(2e-5f));
        }
    }

    @Test
    void vectorsAreUnitLength() {
        for (String text : List.of("a", "Tesla recalls 2 million cars", words(250, 2))) {
            assertThat(dot(embedder.embed(text), embedder.embed(text))).isCloseTo(1.0, within(1e-5));
        }
    }

    @Test
    void countTokensUsesTheModelsWordPiecesWithoutTruncation() {
        for (String w : WORDS) assertThat(embedder.countTokens(w)).as(w).isEqualTo(1);
        assertThat(embedder.countTokens(words(300, 3))).isEqualTo(300);
        // "unaffordable" is split into several word pieces; punctuation is its own piece.
        assertThat(embedder.countTokens("unaffordable!")).isGreaterThan(2);
        assertThat(embedder.maxTokens()).isEqualTo(254);
    }

    @Test
    void wordPiecesPast128StillChangeTheEmbedding() {
        String prefix = words(180, 4);
        String a = prefix + " " + words(60, 5);
        String b = prefix + " " + words(60, 6);
        assertThat(embedder.countTokens(a)).isEqualTo(240);
        assertThat(dot(embedder.embed(a), embedder.embed(b))).isLessThan(0.999);
        // The bundled pipeline truncates at 128 tokens: both texts look the same to it.
        var reference = new AllMiniLmL6V2EmbeddingModel();
        assertThat(dot(reference.embed(a).content().vector(), reference.embed(b).content().vector()))
                .isCloseTo(1.0, within(1e-6));
    }

    @Test
    void textPastTheWindowIsRejectedWithItsLength() {
        String text = words(254, 7);
        embedder.embed(text);
        assertThatThrownBy(() -> embedder.embed(text + " oil"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("255 word pieces")
                .hasMessageContaining("at most 254");
        assertThatThrownBy(() -> embedder.embedAll(List.of("fine", words(400, 8))))
                .hasMessageContaining("text 1 of 2 is 400 word pieces");
    }

    @Test
    void truncatingEmbedderCutsToTheWindowLikeSentenceTransformers() {
        try (var truncating = MiniLmEmbedder.load(MiniLmEmbedder.Variant.FULL, MiniLmEmbedder.OverLength.TRUNCATE)) {
            String first254 = words(254, 9);
            String longer = first254 + " " + words(100, 10);
            float[] cut = truncating.embed(longer);
            float[] expected = embedder.embed(first254);
            for (int i = 0; i < 384; i++) assertThat(cut[i]).isCloseTo(expected[i], within(1e-5f));
        }
    }

    @Test
    void batchOfMixedLengthsMatchesOneByOneInInputOrder() {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 40; i++) texts.add(words(1 + (i * 37) % 250, 100 + i));
        List<float[]> batch = embedder.embedAll(texts);
        assertThat(batch).hasSize(40);
        for (int i = 0; i < texts.size(); i += 7) {
            float[] single = embedder.embed(texts.get(i));
            for (int d = 0; d < 384; d++) assertThat(batch.get(i)[d]).isCloseTo(single[d], within(1e-4f));
        }
        assertThat(embedder.embedAll(List.of())).isEmpty();
    }

    @Test
    void shortTextsAreNotPaddedToTheLengthOfLongOnesInABatch() {
        // The feature pipeline's shape: each article's short last chunk among full 256-piece chunks.
        int[] lengths = new int[33];
        for (int i = 0; i < 33; i++) lengths[i] = i < 12 ? 50 + i * 3 : 240 + (i - 12) % 17;
        java.util.Arrays.sort(lengths);
        assertThat(MiniLmEmbedder.batchEnd(lengths, 0)).isEqualTo(12);
        assertThat(MiniLmEmbedder.batchEnd(lengths, 12)).isEqualTo(33);
    }

    @Test
    void similarLengthsFillWholeBatchesOf32() {
        int[] same = new int[70];
        java.util.Arrays.fill(same, 256);
        assertThat(MiniLmEmbedder.batchEnd(same, 0)).isEqualTo(32);
        assertThat(MiniLmEmbedder.batchEnd(same, 64)).isEqualTo(70);
        int[] rising = new int[40];
        for (int i = 0; i < 40; i++) rising[i] = 200 + i; // padding to 231 costs 7% over the real pieces
        assertThat(MiniLmEmbedder.batchEnd(rising, 0)).isEqualTo(32);
        int[] jump = {10, 10, 10, 14}; // 4 x 14 = 56 word pieces for 44 real ones: 27% padding, one too many
        assertThat(MiniLmEmbedder.batchEnd(jump, 0)).isEqualTo(3);
        assertThat(MiniLmEmbedder.batchEnd(jump, 3)).isEqualTo(4);
    }

    @Test
    void batchOfShortAndFullWindowTextsMatchesOneByOne() {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 35; i++) texts.add(i % 3 == 2 ? words(20 + i, 200 + i) : words(254 - i % 5, 200 + i));
        List<float[]> batch = embedder.embedAll(texts);
        for (int i = 0; i < texts.size(); i += 2) {
            float[] single = embedder.embed(texts.get(i));
            for (int d = 0; d < 384; d++) assertThat(batch.get(i)[d]).isCloseTo(single[d], within(1e-4f));
        }
    }

    @Test
    void blankTextIsRejected() {
        assertThatThrownBy(() -> embedder.embed("  ")).hasMessageContaining("empty");
        assertThatThrownBy(() -> embedder.embedAll(List.of("ok", ""))).hasMessageContaining("text 1 of 2 is empty");
    }

    @Test
    void similarNewsIsCloserThanUnrelatedText() {
        float[] q = embedder.embed("Which chip makers are reporting strong earnings?");
        float[] near = embedder.embed("Nvidia beats quarterly profit estimates on data-center demand");
        float[] far = embedder.embed("A simple recipe for chocolate cake with strawberries");
        assertThat(dot(q, near)).isGreaterThan(dot(q, far) + 0.2);
    }

    @Test
    void quantizedModelAgreesWithTheFullOne() {
        try (var quantized = MiniLmEmbedder.load(MiniLmEmbedder.Variant.QUANTIZED, MiniLmEmbedder.OverLength.REJECT)) {
            String text = "Oil prices fell as OPEC signalled higher output next quarter.";
            assertThat(dot(quantized.embed(text), embedder.embed(text))).isGreaterThan(0.95);
            assertThat(quantized.countTokens(words(200, 11))).isEqualTo(200);
        }
    }
}
