package dev.finadvisor.training.dataset;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.news.NewsArticle;
import dev.finadvisor.domain.qa.QaCleaner;
import dev.finadvisor.domain.qa.QaDataset;
import dev.finadvisor.domain.qa.QaDuplicates;
import dev.finadvisor.domain.qa.QaSample;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Makes a Q&A training set offline, without a teacher LLM: for each sample a news article (its
 * summary is the {@code context}), a coherent made-up investor ({@code about_me}), a question such an
 * investor would ask about that news, and an answer written from rules for their age, risk
 * appetite and goal ({@link AdviceWriter}). The same seed gives the same samples; no two samples
 * ask the same thing ({@link QaDuplicates#key}); every sample passes {@link QaDataset} validation.
 */
public final class SyntheticQaGenerator {
    /** Written into each sample's {@code source} field. */
    public static final String SOURCE = "finadvisor-synth";
    private static final int ATTEMPTS_PER_SAMPLE = 200;

    private final List<NewsArticle> news;

    public SyntheticQaGenerator(List<NewsArticle> news) {
        if (news.isEmpty()) throw new UserError("the dataset generator needs at least one news article");
        this.news = List.copyOf(news);
    }

    /** {@code n} distinct samples, fully determined by {@code seed}. */
    public List<QaSample> generate(int n, long seed) {
        if (n < 1) throw new UserError("--n must be at least 1, is " + n);
        SplittableRandom r = new SplittableRandom(seed);
        List<QaSample> samples = new ArrayList<>(n);
        Set<String> seen = new HashSet<>();
        // Walk the articles in a shuffled order, round after round, so every article is used evenly.
        int[] order = shuffledIndexes(news.size(), r);
        for (int i = 0; i < n; i++) {
            NewsArticle article = news.get(order[i % order.length]);
            QaSample sample = null;
            for (int attempt = 0; attempt < ATTEMPTS_PER_SAMPLE && sample == null; attempt++) {
                QaSample candidate = sampleFor(article, r);
                if (seen.add(QaDuplicates.key(candidate))) sample = candidate;
            }
            if (sample == null) {
                throw new UserError("could only make " + samples.size() + " distinct samples from " + news.size()
                        + " news articles; ask for fewer (--n) or give more news (--news)");
            }
            samples.add(sample);
        }
        // Fail here, not in training, if a rule ever writes something the loader would reject.
        QaDataset.of(samples, QaDataset.Options.TRAINING);
        return samples;
    }

    private QaSample sampleFor(NewsArticle article, SplittableRandom r) {
        NewsTopic topic = NewsTopic.of(article);
        NewsSentiment sentiment = NewsSentiment.of(article);
        InvestorProfile profile = InvestorProfile.random(r);
        String context = QaCleaner.text(NewsSample.isBlank(article.summary()) ? article.headline() : article.summary());
        // The ticker the question may ask about, and the name the answer calls it by (the company's, when known).
        String symbol = article.symbols().isEmpty() ? null : InvestorProfile.pick(r, article.symbols());
        String name = symbol == null ? null : NewsWriter.NAMES.getOrDefault(symbol, symbol);
        String question = question(topic, profile, symbol, name, r);
        // a question that names the ticker or the company gets an answer that names it too
        boolean named = symbol != null && (question.contains(symbol) || question.contains(name));
        String subject = named || (name != null && r.nextInt(100) < 60) ? name : null;
        String response = AdviceWriter.write(profile, topic, sentiment, subject, r);
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("source", SOURCE);
        extra.put("news_id", article.id());
        extra.put("topic", topic.name().toLowerCase(Locale.ROOT));
        extra.put("profile", profile.asFields());
        return new QaSample(profile.aboutMe(r), context, question, response, List.of(), extra);
    }

    static String question(NewsTopic topic, InvestorProfile profile, String symbol, String name, SplittableRandom r) {
        int kind = r.nextInt(20);
        if (kind < 8) return InvestorProfile.pick(r, topic.questions());
        if (kind < 14 && symbol != null) {
            String s = r.nextBoolean() ? symbol : name;
            int amount = InvestorProfile.pick(r, List.of(2_000, 5_000, 10_000, 25_000, 50_000));
            return InvestorProfile.pick(r, List.of("Is it a good time to buy " + s + "?",
                    "Should I change my position in " + s + " after this news?",
                    "What does this mean for " + s + " as an investment?",
                    String.format(Locale.ROOT, "I have $%,d to invest. Should some of it go into %s?", amount, s),
                    "Should I wait for " + s + " to drop before buying?",
                    "Is " + s + " a better buy than an index fund right now?",
                    "I already own some " + s + ". Should I sell after this news?",
                    "How much of my portfolio should be in " + s + "?"));
        }
        if (kind < 18) {
            return switch (profile.goal()) {
                case HOUSE_DEPOSIT -> "Does this news change how I should save for my house deposit?";
                case CHILDREN_EDUCATION -> "How should this affect the money I'm saving for my kids' education?";
                case PASSIVE_INCOME -> "Does this put the income from my investments at risk?";
                case RETIRE_COMFORTABLY -> "Should this news change my plans as I get close to retiring?";
                case RETIREMENT_INCOME -> "Is my retirement income safe after this news?";
                case GROW_WEALTH -> "Should I adjust my long-term portfolio because of this?";
            };
        }
        return InvestorProfile.pick(r, List.of("What should I do with my investments after this news?",
                "How should this news change my investment plan?", "Does this news matter for my portfolio?"));
    }

    private static int[] shuffledIndexes(int size, SplittableRandom r) {
        int[] idx = new int[size];
        for (int i = 0; i < size; i++) idx[i] = i;
        for (int i = size - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        return idx;
    }
}
