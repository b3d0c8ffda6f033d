package dev.finadvisor.training.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.news.NewsArticle;
import dev.finadvisor.domain.qa.QaDataset;
import dev.finadvisor.domain.qa.QaDuplicates;
import dev.finadvisor.domain.qa.QaSample;
import dev.finadvisor.training.dataset.InvestorProfile.Goal;
import dev.finadvisor.training.dataset.InvestorProfile.RiskTolerance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticQaGeneratorTest {
    /** Words that only belong in advice to someone retired or about to retire. */
    static final List<String> RETIREE_MARKERS = List.of("retire", "pension", "withdraw", "live on", "live off",
            "drawing on your savings", "catch-up");

    static List<NewsArticle> news;
    static List<QaSample> big;

    @BeforeAll
    static void generateOnce() {
        news = NewsSample.bundled();
        big = new SyntheticQaGenerator(news).generate(3000, new Random().nextLong());
    }

    @Test
    void bundledNewsIsAtLeastFiftyDistinctAlpacaArticles() {
        assertThat(news).hasSizeGreaterThanOrEqualTo(50);
        assertThat(news.stream().map(NewsArticle::id).distinct().count()).isEqualTo(news.size());
        assertThat(news).allSatisfy(a -> {
            assertThat(a.headline()).isNotBlank();
            assertThat(a.summary()).isNotBlank();
            assertThat(a.content()).startsWith("<p>");
            assertThat(a.symbols()).isNotEmpty();
            assertThat(a.createdAt()).isNotNull();
            assertThat(a.url()).startsWith("https://");
        });
        // Every topic the rules know has news behind it.
        assertThat(news.stream().map(NewsTopic::of).collect(Collectors.toSet())).containsExactlyInAnyOrder(NewsTopic.values());
    }

    @Test
    void sameSeedWritesTheSameFileAndAnotherSeedDoesNot(@TempDir Path dir) throws IOException {
        Path a = dir.resolve("a.jsonl");
        Path b = dir.resolve("b.jsonl");
        Path c = dir.resolve("c.jsonl");
        QaDataset.write(a, new SyntheticQaGenerator(news).generate(400, 42));
        QaDataset.write(b, new SyntheticQaGenerator(NewsSample.bundled()).generate(400, 42));
        QaDataset.write(c, new SyntheticQaGenerator(news).generate(400, 43));
        assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));
        assertThat(Files.readAllBytes(a)).isNotEqualTo(Files.readAllBytes(c));
        // and the file loads back as training data that writes out to the same bytes
        QaDataset loaded = QaDataset.load(a);
        assertThat(loaded).hasSize(400);
        QaDataset.write(c, loaded);
        assertThat(Files.readAllBytes(c)).isEqualTo(Files.readAllBytes(a));
    }

    @Test
    void noTwoSamplesAskTheSameThing() {
        assertThat(QaDuplicates.find(big)).isEmpty();
        assertThat(big.stream().map(QaSample::response).distinct().count()).isGreaterThan(big.size() * 9 / 10);
    }

    @Test
    void everySampleValidatesAsTrainingData() {
        assertThat(QaDataset.of(big, QaDataset.Options.TRAINING)).hasSize(3000);
        assertThat(big).allSatisfy(s -> {
            assertThat(s.extra()).containsEntry("source", SyntheticQaGenerator.SOURCE).containsKeys("news_id", "topic", "profile");
            NewsArticle article = news.stream().filter(a -> a.id() == ((Number) s.extra().get("news_id")).longValue()).findFirst().orElseThrow();
            assertThat(s.context()).isEqualTo(article.summary());
            assertThat(s.aboutMe()).contains(Integer.toString(age(s))).contains("\n").doesNotContain("work as a retired", "work as an retired");
        });
    }

    @Test
    void responsesAreShortFluentSentences() {
        Pattern sentenceStart = Pattern.compile("(^|[.?!] )[a-z]");
        for (QaSample s : big) {
            String r = s.response();
            assertThat(AdviceWriter.words(r)).as(r).isLessThan(120).isGreaterThanOrEqualTo(25);
            assertThat(r).as(r).matches("^[A-Z].*[.!?]$").doesNotContain("  ", " ,", " .", "{", "}", "..");
            assertThat(sentenceStart.matcher(r).find()).as(r).isFalse();
            long sentences = r.chars().filter(ch -> ch == '.' || ch == '?' || ch == '!').count();
            assertThat(sentences).as(r).isBetween(3L, 6L);
            assertThat(s.question()).endsWith("?");
        }
    }

    @Test
    void answersAreVariedAndEndWithoutBoilerplate() {
        Map<String, Integer> lastSentences = new HashMap<>();
        Set<String> openings = new HashSet<>();
        for (QaSample s : big) {
            String[] parts = s.response().split("(?<=[.!?]) ");
            lastSentences.merge(parts[parts.length - 1], 1, Integer::sum);
            openings.add(parts[0]);
            assertThat(s.response().toLowerCase(Locale.ROOT)).doesNotContain("consult", "financial advisor", "not financial advice", "disclaimer");
        }
        int mostCommonEnding = lastSentences.values().stream().max(Integer::compare).orElseThrow();
        assertThat(mostCommonEnding).as("most common last sentence").isLessThan(big.size() / 20);
        assertThat(lastSentences).hasSizeGreaterThan(40);
        assertThat(openings).hasSizeGreaterThan(150);
    }

    @Test
    void anAnswerNamesTheCompanyOrTickerTheQuestionAsksAbout() {
        int asked = 0;
        for (QaSample s : big) {
            NewsArticle article = news.stream().filter(a -> a.id() == ((Number) s.extra().get("news_id")).longValue()).findFirst().orElseThrow();
            for (String symbol : article.symbols()) {
                String name = NewsWriter.NAMES.getOrDefault(symbol, symbol);
                if (s.question().contains(symbol + "?") || s.question().contains(symbol + " ") || s.question().contains(name)) {
                    asked++;
                    assertThat(s.response()).as(s.question()).containsAnyOf(symbol, name);
                }
            }
        }
        assertThat(asked).as("questions naming a ticker or company").isGreaterThan(big.size() / 5);
    }

    @Test
    void aYoungAggressiveSaverNeverGetsRetireeAdvice() {
        SplittableRandom r = new SplittableRandom(new Random().nextLong());
        for (Goal goal : List.of(Goal.GROW_WEALTH, Goal.HOUSE_DEPOSIT, Goal.PASSIVE_INCOME)) {
            InvestorProfile saver = new InvestorProfile(25, "software engineer", RiskTolerance.AGGRESSIVE, goal, goal == Goal.HOUSE_DEPOSIT ? 3 : 40);
            for (NewsTopic topic : NewsTopic.values()) {
                for (NewsSentiment sentiment : NewsSentiment.values()) {
                    for (int i = 0; i < 30; i++) {
                        String answer = AdviceWriter.write(saver, topic, sentiment, null, r);
                        assertThat(answer.toLowerCase(Locale.ROOT)).as(answer).doesNotContain(RETIREE_MARKERS.toArray(String[]::new));
                    }
                }
            }
        }
        assertThatThrownBy(() -> new InvestorProfile(25, "nurse", RiskTolerance.AGGRESSIVE, Goal.RETIREMENT_INCOME, 20))
                .hasMessageContaining("does not fit a 25-year-old");
    }

    @Test
    void generatedAdviceFitsTheInvestorsStageOfLife() {
        for (QaSample s : big) {
            String answer = s.response().toLowerCase(Locale.ROOT);
            int age = age(s);
            String goal = (String) profile(s).get("goal");
            if (age < 55) {
                assertThat(answer).as(s.aboutMe() + " -> " + answer).doesNotContain(RETIREE_MARKERS.toArray(String[]::new));
                assertThat(s.aboutMe().toLowerCase(Locale.ROOT)).doesNotContain("retire", "pension");
                assertThat(goal).isNotIn("retirement_income", "retire_comfortably");
            }
            if (age >= 45) assertThat(s.aboutMe()).doesNotContain("for decades");
            if (age >= 65) {
                assertThat(answer).as(answer).doesNotContain("decades of investing ahead", "long runway", "emergency fund",
                        "high-interest debt", "time is on your side");
            }
            if (goal.equals("house_deposit") && ((Number) profile(s).get("horizon_years")).intValue() <= 3) {
                assertThat(answer).as(answer).containsAnyOf("out of the market", "savings account");
            }
            if (profile(s).get("risk").equals("conservative")) {
                assertThat(answer).as(answer).doesNotContain("comfortable with risk", "appetite for risk", "growth-heavy");
            }
        }
    }

    @Test
    void usesTheNewsItIsGivenAndReportsBadNewsLinesAtOnce(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("news.jsonl");
        Files.writeString(file, "{\"id\": 1, \"headline\": \"Gold Rallies to a Record\", \"summary\": \"Gold rose to a record high.\","
                + " \"created_at\": \"2025-01-02T03:04:05Z\", \"symbols\": [\"GLD\"], \"source\": \"benzinga\", \"content\": \"\"}\n");
        List<QaSample> samples = new SyntheticQaGenerator(NewsSample.load(file)).generate(50, 1);
        assertThat(samples).hasSize(50).allSatisfy(s -> {
            assertThat(s.context()).isEqualTo("Gold rose to a record high.");
            assertThat(s.extra()).containsEntry("topic", "commodities");
        });

        Files.writeString(file, "{\"id\": 1, \"headline\": \"ok\", \"summary\": \"fine\"}\nnot json\n\n{\"id\": 3}\n{\"id\": \"x\", \"headline\": \"h\"}\n");
        assertThatThrownBy(() -> NewsSample.load(file))
                .isInstanceOf(UserError.class)
                .hasMessageContaining("3 bad line(s)")
                .hasMessageContaining("line 2: not an Alpaca news object")
                .hasMessageContaining("line 4: article 3 has neither headline nor summary")
                .hasMessageContaining("line 5: not an Alpaca news object");
    }

    @Test
    void askingForNothingIsAnError() {
        assertThatThrownBy(() -> new SyntheticQaGenerator(news).generate(0, 1)).isInstanceOf(UserError.class).hasMessageContaining("--n");
        assertThatThrownBy(() -> new SyntheticQaGenerator(List.of())).isInstanceOf(UserError.class);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> profile(QaSample s) {
        return (Map<String, Object>) s.extra().get("profile");
    }

    static int age(QaSample s) {
        return ((Number) profile(s).get("age")).intValue();
    }
}
