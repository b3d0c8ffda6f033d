package dev.finadvisor.training.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class RetrievalHitsTest {
    @Test
    void aChunkHoldingHalfTheContextsWordsInOrderIsAHit() {
        RetrievalHits.Chunk full = new RetrievalHits.Chunk("Chip stocks slide", "Tech stocks fell 3% on Tuesday as rate fears grew.");
        RetrievalHits.Chunk other = new RetrievalHits.Chunk("Oil", "Stocks rose.");
        // context words: tech stocks fell 3 -> the first chunk has all four in order (recall 1), the second "stocks" (1/4)
        RetrievalHits.Hit hit = RetrievalHits.of("Tech stocks fell 3%.", List.of(other, full));
        assertThat(hit.hit()).isTrue();
        assertThat(hit.coverage()).isEqualTo(1.0);
        assertThat(hit.headline()).isEqualTo("Chip stocks slide");
        RetrievalHits.Hit miss = RetrievalHits.of("Tech stocks fell 3%.", List.of(other));
        assertThat(miss.hit()).isFalse();
        assertThat(miss.coverage()).isCloseTo(0.25, within(1e-12));
        // exactly half: "bond yields" of "bond yields rose sharply" -> 2/4 = 0.5 covers
        assertThat(RetrievalHits.of("Bond yields rose sharply", List.of(new RetrievalHits.Chunk("Bond yields", ""))).hit()).isTrue();
        assertThat(RetrievalHits.of("Bond yields rose sharply", List.of()).hit()).as("nothing retrieved").isFalse();
    }

    @Test
    void theRateIsOverSamplesWithAContext() {
        assertThat(RetrievalHits.of("  ", List.of())).isNull();
        RetrievalHits.Hit yes = new RetrievalHits.Hit(true, 1, "a");
        RetrievalHits.Hit no = new RetrievalHits.Hit(false, 0.1, "b");
        assertThat(RetrievalHits.rate(Arrays.asList(yes, null, no, yes))).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(RetrievalHits.rate(Arrays.asList(null, null))).isNaN();
    }
}
