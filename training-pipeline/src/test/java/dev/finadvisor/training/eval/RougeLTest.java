package dev.finadvisor.training.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** ROUGE-L against values worked out by hand (longest common subsequence of words). */
class RougeLTest {
    @Test
    void oneWordDifferentInSixGivesFiveSixths() {
        // the cat [sat|is] on the mat: LCS "the cat on the mat" = 5 of 6 words either side
        RougeL.Score s = RougeL.score("the cat sat on the mat", "the cat is on the mat");
        assertThat(s.precision()).isCloseTo(5.0 / 6, within(1e-12));
        assertThat(s.recall()).isCloseTo(5.0 / 6, within(1e-12));
        assertThat(s.f1()).isCloseTo(5.0 / 6, within(1e-12));
    }

    @Test
    void aShortAnswerInsideALongReferenceHasFullPrecisionAndPartRecall() {
        // 3 candidate words, all in order in the 7 reference words: P = 1, R = 3/7, F1 = 2 * 3/7 / (10/7) = 0.6
        RougeL.Score s = RougeL.score("Buy index funds.", "You should buy broad INDEX funds now");
        assertThat(s.precision()).isEqualTo(1.0);
        assertThat(s.recall()).isCloseTo(3.0 / 7, within(1e-12));
        assertThat(s.f1()).isCloseTo(0.6, within(1e-12));
    }

    @Test
    void orderMattersAsASubsequenceNotAsABagOfWords() {
        // "a b c d" against "d c b a": any common subsequence has 1 word: P = R = F1 = 1/4
        assertThat(RougeL.score("a b c d", "d c b a").f1()).isCloseTo(0.25, within(1e-12));
    }

    @Test
    void wordsAreLowercaseRunsOfLettersAndDigits() {
        assertThat(RougeL.words("S&P-500 rose 2.5% (AAPL)!")).containsExactly("s", "p", "500", "rose", "2", "5", "aapl");
        assertThat(RougeL.score("", "anything").f1()).isZero();
        assertThat(RougeL.score("!!!", "???").f1()).isZero();
    }
}
