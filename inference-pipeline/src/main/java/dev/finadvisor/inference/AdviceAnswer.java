package dev.finadvisor.inference;

import java.time.Instant;
import java.util.List;
import java.util.Set;

/** The advisor's reply: the answer, the news it cites, what retrieval found, token usage, timings and the request id. */
public record AdviceAnswer(String answer, List<Source> sources, RetrievalSummary retrieval, Usage usage, Timings timings, String requestId) {

    /**
     * What retrieval found: {@code considered} news chunks inside the window (and the ticker filter), {@code matched}
     * articles used as sources, the window's start and the tickers filtered by; when nothing matched, a note saying so
     * and how to widen the window, so a reply without sources is never silent about why.
     */
    public record RetrievalSummary(int considered, int matched, Instant since, Set<String> symbols, String note) {
        public static RetrievalSummary of(Retrieval r, int cited) {
            String note = cited > 0 ? null : "no news since " + r.since() + (r.symbols().isEmpty() ? "" : " about " + String.join(", ", r.symbols()))
                    + " matched the question; widen the window with options.since (e.g. \"30d\", or \"all\")";
            return new RetrievalSummary(r.chunkHits(), cited, r.since(), r.symbols(), note);
        }
    }
}
