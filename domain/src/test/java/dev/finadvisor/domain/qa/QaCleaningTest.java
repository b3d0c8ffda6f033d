package dev.finadvisor.domain.qa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Cleaning, duplicate detection and the train/validation split. */
class QaCleaningTest {
    @Test
    void cleaningStripsTheCoursesLeadingNewlinesAndNormalisesSpacing() {
        QaSample raw = new QaSample(" I'm 30.\r\nI save a lot.  ", "News\u0000 one.\n\n\n\nNews two.",
                "\nShould I  buy\tbonds? ", "\nCafe\u0301 owners  should diversify.\n", List.of(new QaSample.Exchange(" q ", "a\u200B ")),
                Map.of("id", 1));
        QaSample c = QaCleaner.clean(raw);
        assertThat(c.aboutMe()).isEqualTo("I'm 30.\nI save a lot.");
        assertThat(c.context()).isEqualTo("News one.\n\nNews two.");
        assertThat(c.question()).isEqualTo("Should I buy bonds?");
        assertThat(c.response()).isEqualTo("Caf\u00e9 owners should diversify.");
        assertThat(c.chatHistory()).containsExactly(new QaSample.Exchange("q", "a"));
        assertThat(c.extra()).isEqualTo(Map.of("id", 1));
        assertThat(QaCleaner.clean(c)).isEqualTo(c);
    }

    @Test
    void cleaningTheCourseDataChangesWhitespaceOnly() {
        QaDataset data = QaDataset.load(QaDatasetTest.courseTrainingData());
        QaCleaner.Result result = QaCleaner.clean(data);
        assertThat(result.changed()).isGreaterThan(100);
        for (int i = 0; i < data.size(); i++) {
            assertThat(squash(result.samples().get(i).response())).isEqualTo(squash(data.get(i).response()));
            assertThat(result.samples().get(i).question()).doesNotStartWith("\n");
        }
        // Cleaned samples still validate.
        assertThat(QaDataset.of(result.samples(), QaDataset.Options.TRAINING)).hasSize(data.size());
    }

    @Test
    void duplicatesIgnoreCasePunctuationAndSpacingAndFlagConflictingAnswers() {
        QaSample a = new QaSample("I'm 30.", "Rates rise.", "Should I buy bonds?", "Yes, short ones.");
        QaSample b = new QaSample("i'm 30", "Rates  rise!", "should I buy BONDS", "yes short ones");
        QaSample c = new QaSample("I'm 30.", "Rates rise.", "Should I buy stocks?", "Index funds.");
        QaSample d = new QaSample("I'm 30.", "Rates rise.", "Should I buy bonds?", "No.");
        List<QaDuplicates.Group> groups = QaDuplicates.find(List.of(a, b, c, d));
        assertThat(groups).containsExactly(new QaDuplicates.Group(List.of(0, 1, 3), false));
        assertThat(QaDuplicates.find(List.of(a, b))).containsExactly(new QaDuplicates.Group(List.of(0, 1), true));
        assertThat(QaDuplicates.dropDuplicates(List.of(a, b, c, d))).containsExactly(a, c);
        assertThat(QaDuplicates.find(QaDataset.load(QaDatasetTest.courseTrainingData()))).isEmpty();
    }

    @Test
    void splitIsReproducibleKeepsDuplicatesTogetherAndHitsTheFraction() {
        Random random = new Random();
        List<QaSample> samples = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            int topic = random.nextInt(120); // about 60 topics asked more than once
            samples.add(new QaSample("me", "news", "Question " + topic + "?", "Answer " + i + "."));
        }
        long seed = random.nextLong();
        QaSplit split = QaSplit.of(samples, 0.1, seed);
        assertThat(QaSplit.of(samples, 0.1, seed)).isEqualTo(split);
        assertThat(split.train().size() + split.validation().size()).isEqualTo(200);
        assertThat(split.validation().size()).isBetween(20, 30);
        Set<String> trainKeys = new HashSet<>();
        split.train().forEach(s -> trainKeys.add(QaDuplicates.key(s)));
        assertThat(split.validation()).noneMatch(s -> trainKeys.contains(QaDuplicates.key(s)));
        // each side keeps the file's order
        assertThat(split.train()).isSortedAccordingTo((x, y) -> Integer.compare(samples.indexOf(x), samples.indexOf(y)));
    }

    @Test
    void splitLeavesBothSidesNonEmptyAndRejectsABadFraction() {
        List<QaSample> two = List.of(new QaSample("a", "c", "q1", "r"), new QaSample("a", "c", "q2", "r"));
        QaSplit split = QaSplit.of(two, 0.01, 1);
        assertThat(split.train()).hasSize(1);
        assertThat(split.validation()).hasSize(1);
        assertThat(QaSplit.of(two, 0.0, 1).validation()).isEmpty();
        assertThatThrownBy(() -> QaSplit.of(two, 1.0, 1)).hasMessageContaining("[0, 1)");
    }

    private static String squash(String s) {
        return s.replaceAll("\\s+", " ").strip();
    }
}
