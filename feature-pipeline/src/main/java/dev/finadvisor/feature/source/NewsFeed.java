package dev.finadvisor.feature.source;

/**
 * Reads one split from its cursor on a thread of its own (network and file waits must not block
 * Flink's task thread) until the split ends; an unbounded feed runs until interrupted.
 */
sealed interface NewsFeed permits ReplayFeed, BackfillFeed, StreamFeed {
    void run(FeedOutput out) throws Exception;

    static NewsFeed open(NewsSplit split, AlpacaSettings settings, AlpacaCredentials credentials) {
        if (split instanceof ReplaySplit r) return new ReplayFeed(r);
        if (split instanceof BackfillSplit b) return new BackfillFeed(b, AlpacaClients.rest(settings, credentials));
        if (split instanceof StreamSplit s) return new StreamFeed(s, settings, credentials);
        throw new IllegalArgumentException("no feed for split " + split);
    }
}
