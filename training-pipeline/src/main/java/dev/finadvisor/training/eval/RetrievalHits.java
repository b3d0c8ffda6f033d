package dev.finadvisor.training.eval;

import java.util.List;

/**
 * Retrieval hit rate: does retrieving news for a sample's question (as the server does, top k articles) bring back the
 * news the reference answer was written from, the sample's {@code context}? A retrieved chunk covers the context when
 * at least half of the context's words appear in it in order (ROUGE-L recall of the context by the chunk's headline and
 * text, {@link #COVERED} or more); the sample is a hit when one of the k chunks covers it. The rate is over samples with
 * a context; those without one are not counted.
 */
public final class RetrievalHits {
    /** The ROUGE-L recall of the context from which a chunk covers it. */
    public static final double COVERED = 0.5;

    /** A retrieved chunk's headline and text. */
    public record Chunk(String headline, String text) {}

    /** One sample's retrieval: whether it hit, the best coverage among the chunks, and that chunk's headline (null: none retrieved). */
    public record Hit(boolean hit, double coverage, String headline) {}

    private RetrievalHits() {}

    /** The hit for a sample with {@code context}, or null when the context has no words (not counted). */
    public static Hit of(String context, List<Chunk> retrieved) {
        if (RougeL.words(context).isEmpty()) return null;
        double best = 0;
        String headline = null;
        for (Chunk c : retrieved) {
            double recall = RougeL.score(c.headline() + "\n" + c.text(), context).recall();
            if (headline == null || recall > best) {
                best = recall;
                headline = c.headline();
            }
        }
        return new Hit(best >= COVERED, best, headline);
    }

    /** Hits over counted samples (null entries are not counted); NaN when none is counted. */
    public static double rate(List<Hit> hits) {
        long counted = hits.stream().filter(h -> h != null).count();
        long hit = hits.stream().filter(h -> h != null && h.hit()).count();
        return counted == 0 ? Double.NaN : (double) hit / counted;
    }
}
