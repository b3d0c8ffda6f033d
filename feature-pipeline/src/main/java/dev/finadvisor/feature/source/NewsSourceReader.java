package dev.finadvisor.feature.source;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.core.io.InputStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads its splits one at a time: a feed thread does the waiting (network, retries, backoff) and
 * queues each message with the split cursor just after it; the task thread emits from the queue and
 * so always checkpoints the cursor of exactly what it has emitted.
 */
final class NewsSourceReader implements SourceReader<IncomingNews, NewsSplit> {
    private static final Logger log = LoggerFactory.getLogger(NewsSourceReader.class);
    private static final int QUEUE = 256;

    /** What the feed thread queues: a message with the cursor after it, the end of the split, or its failure. */
    private record Item(IncomingNews news, NewsSplit after, boolean finished, Throwable failure) {}

    private final SourceReaderContext context;
    private final Function<NewsSplit, NewsFeed> feeds;
    private final ArrayDeque<NewsSplit> waiting = new ArrayDeque<>();
    private final BlockingQueue<Item> queue = new ArrayBlockingQueue<>(QUEUE);
    private CompletableFuture<Void> available = new CompletableFuture<>();
    private NewsSplit current;
    private Thread feedThread;
    private volatile boolean closing;
    private boolean noMoreSplits;

    NewsSourceReader(SourceReaderContext context, Function<NewsSplit, NewsFeed> feeds) {
        this.context = context;
        this.feeds = feeds;
    }

    @Override
    public void start() {
        context.sendSplitRequest();
    }

    @Override
    public InputStatus pollNext(ReaderOutput<IncomingNews> output) throws Exception {
        if (current == null && !waiting.isEmpty()) startFeed(waiting.poll());
        Item item = queue.poll();
        if (item == null) {
            return current == null && waiting.isEmpty() && noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
        }
        if (item.failure() != null) {
            throw new IOException("news source " + current.splitId() + " failed: " + item.failure().getMessage(), item.failure());
        }
        if (item.finished()) {
            log.info("news source {} finished", current.splitId());
            current = null;
            feedThread = null;
            return InputStatus.MORE_AVAILABLE;
        }
        output.collect(item.news());
        current = item.after();
        return InputStatus.MORE_AVAILABLE;
    }

    private void startFeed(NewsSplit split) {
        current = split;
        NewsFeed feed = feeds.apply(split);
        Thread thread = new Thread(() -> {
            Item end;
            try {
                feed.run((news, after) -> put(new Item(news, after, false, null)));
                end = new Item(null, null, true, null);
            } catch (InterruptedException e) {
                return; // closing
            } catch (Throwable e) {
                if (closing) return;
                end = new Item(null, null, false, e);
            }
            try {
                put(end);
            } catch (InterruptedException e) {
                // closing
            }
        }, "news-feed " + split.splitId());
        thread.setDaemon(true);
        feedThread = thread;
        thread.start();
    }

    private void put(Item item) throws InterruptedException {
        queue.put(item);
        signal();
    }

    private synchronized void signal() {
        available.complete(null);
    }

    @Override
    public synchronized CompletableFuture<Void> isAvailable() {
        if (!queue.isEmpty() || (current == null && (!waiting.isEmpty() || noMoreSplits))) {
            return CompletableFuture.completedFuture(null);
        }
        if (available.isDone()) available = new CompletableFuture<>();
        return available;
    }

    @Override
    public List<NewsSplit> snapshotState(long checkpointId) {
        List<NewsSplit> state = new java.util.ArrayList<>();
        if (current != null) state.add(current);
        state.addAll(waiting);
        return state;
    }

    @Override
    public void addSplits(List<NewsSplit> splits) {
        waiting.addAll(splits);
        signal();
    }

    @Override
    public void notifyNoMoreSplits() {
        noMoreSplits = true;
        signal();
    }

    @Override
    public void close() throws Exception {
        closing = true;
        Thread thread = feedThread;
        if (thread != null) {
            thread.interrupt();
            thread.join(TimeUnit.SECONDS.toMillis(5));
        }
    }
}
