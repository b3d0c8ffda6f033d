package dev.finadvisor.training.dataset;

import dev.finadvisor.domain.news.NewsArticle;
import java.util.Map;
import java.util.Locale;

/** How a headline reads for the assets it is about, judged from its wording. */
public enum NewsSentiment {
    POSITIVE, NEGATIVE, MIXED;

    // Phrases and their weight; a few undo a misleading word ("yields jump" is bad for bond holders,
    // "rates drop" good for property).
    private static final Map<String, Integer> WORDS = Map.ofEntries(
            Map.entry(" rise", 1), Map.entry(" rises", 1), Map.entry(" climb", 1), Map.entry(" jump", 1), Map.entry(" surge", 1),
            Map.entry(" rall", 1), Map.entry(" record high", 1), Map.entry(" hits record", 1), Map.entry(" hit record", 1),
            Map.entry(" beat", 1), Map.entry(" gain", 1), Map.entry(" boost", 1), Map.entry(" raise", 1), Map.entry(" strong", 1),
            Map.entry(" expand", 1), Map.entry(" rebound", 1), Map.entry(" lead ", 1), Map.entry(" benefit", 1), Map.entry(" booms", 1),
            Map.entry(" higher profits", 1), Map.entry(" ease", 1), Map.entry(" reopens", 1), Map.entry(" attract", 1),
            Map.entry(" resilient", 1), Map.entry(" record dividend", 1),
            Map.entry(" fall", -1), Map.entry(" fell", -1), Map.entry(" slip", -1), Map.entry(" slide", -1), Map.entry(" drop", -1),
            Map.entry(" tumble", -1), Map.entry(" slump", -1), Map.entry(" warn", -1), Map.entry(" loss", -1), Map.entry(" struggle", -1),
            Map.entry(" worries", -1), Map.entry(" fears", -1), Map.entry(" short of", -1), Map.entry(" delay", -1),
            Map.entry(" write down", -1), Map.entry(" hack", -1), Map.entry(" cuts dividend", -1), Map.entry(" slow", -1),
            Map.entry(" sticky", -1), Map.entry(" tightening", -1), Map.entry(" spike", -1), Map.entry(" lower", -1),
            Map.entry(" yields jump", -3), Map.entry(" yields rise", -2), Map.entry(" rates drop", 2), Map.entry(" rates fall", 2),
            Map.entry(" cuts rates", 2), Map.entry(" cuts interest rates", 2), Map.entry(" panel prices fall", 1),
            Map.entry(" strengthen", 1));

    /** Weighs the headline's wording twice and the summary's once; a balance (or no signal) is mixed. */
    public static NewsSentiment of(NewsArticle article) {
        int score = 2 * score(article.headline()) + score(article.summary());
        return score > 0 ? POSITIVE : score < 0 ? NEGATIVE : MIXED;
    }

    private static int score(String text) {
        if (text == null) return 0;
        String t = " " + text.toLowerCase(Locale.ROOT) + " ";
        int score = 0;
        for (Map.Entry<String, Integer> e : WORDS.entrySet()) if (t.contains(e.getKey())) score += e.getValue();
        return score;
    }
}
