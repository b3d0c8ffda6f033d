package dev.finadvisor.feature.source;

/** Where a feed hands its messages: each with the split's cursor just after it. Blocks while the job is behind. */
interface FeedOutput {
    void emit(IncomingNews news, NewsSplit after) throws InterruptedException;
}
