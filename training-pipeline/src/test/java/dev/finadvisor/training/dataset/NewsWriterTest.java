package dev.finadvisor.training.dataset;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finadvisor.domain.news.NewsArticle;
import dev.finadvisor.domain.qa.QaSample;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class NewsWriterTest {
    @Test
    void writesVariedArticlesThatReadAsTheirTopicAndTone() {
        List<NewsArticle> a = NewsWriter.write(2000, 3, 1000);
        assertThat(a).hasSize(2000);
        assertThat(NewsWriter.write(2000, 3, 1000)).isEqualTo(a);
        assertThat(NewsWriter.write(50, 4, 1000)).isNotEqualTo(a.subList(0, 50));
        assertThat(a.stream().map(NewsArticle::id).distinct().count()).isEqualTo(2000);
        assertThat(a).allSatisfy(x -> {
            assertThat(x.headline()).isNotBlank().doesNotContain("{", "}", "  ");
            assertThat(x.summary()).matches("^[A-Z].*[.]$").doesNotContain("  ", " ,", "..", "null");
            assertThat(x.symbols()).isNotEmpty();
            assertThat(x.author()).isEqualTo(NewsWriter.AUTHOR);
            assertThat(x.createdAt()).isAfter(java.time.Instant.parse("2024-01-01T00:00:00Z"));
        });
        // company stories name the company and its ticker in the summary, so a question about either can be answered from it
        long company = a.stream().filter(x -> x.symbols().size() == 1 && NewsWriter.NAMES.containsKey(x.symbols().get(0))).peek(x -> {
            String t = x.symbols().get(0);
            assertThat(x.summary()).contains(NewsWriter.NAMES.get(t)).contains(t);
        }).count();
        assertThat(company).isBetween(1200L, 1600L);
        assertThat(a.stream().map(NewsArticle::headline).distinct().count()).isGreaterThan(500);
        Set<NewsTopic> topics = a.stream().map(NewsTopic::of).collect(Collectors.toSet());
        assertThat(topics).hasSizeGreaterThanOrEqualTo(NewsTopic.values().length - 1);
        assertThat(a.stream().map(NewsSentiment::of).collect(Collectors.toSet())).containsExactlyInAnyOrder(NewsSentiment.values());
        // the tone is read as written: every beat is positive, every miss negative
        assertThat(a.stream().filter(x -> x.headline().contains("Earnings Beat")).map(NewsSentiment::of)).isNotEmpty().containsOnly(NewsSentiment.POSITIVE);
        assertThat(a.stream().filter(x -> x.headline().contains("Sales Miss")).map(NewsSentiment::of)).isNotEmpty().containsOnly(NewsSentiment.NEGATIVE);
        // the synthetic Q&A generator works over them
        List<QaSample> qa = new SyntheticQaGenerator(a).generate(500, 1);
        assertThat(qa).hasSize(500);
    }
}
