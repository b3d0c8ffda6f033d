package dev.finadvisor.feature.source;

import java.util.List;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * News as a Flink source (FLIP-27): a JSON Lines replay, an Alpaca REST backfill, or the Alpaca
 * WebSocket stream. Bounded for the first two, unbounded for the stream; the split's cursor is the
 * checkpointed state, so a restored job goes on exactly after what it had emitted.
 */
public final class NewsSource implements Source<IncomingNews, NewsSplit, List<NewsSplit>> {
    private static final long serialVersionUID = 1L;

    private final NewsSplit split;
    private final AlpacaSettings settings;
    private final AlpacaCredentials credentials;

    private NewsSource(NewsSplit split, AlpacaSettings settings, AlpacaCredentials credentials) {
        this.split = split;
        this.settings = settings;
        this.credentials = credentials;
    }

    public static NewsSource replay(String path) {
        return new NewsSource(new ReplaySplit(path, 0), null, null);
    }

    public static NewsSource backfill(BackfillSplit range, AlpacaSettings settings, AlpacaCredentials credentials) {
        return new NewsSource(range, settings, credentials);
    }

    public static NewsSource stream(StreamSplit start, AlpacaSettings settings, AlpacaCredentials credentials) {
        return new NewsSource(start, settings, credentials);
    }

    @Override
    public Boundedness getBoundedness() {
        return split instanceof StreamSplit ? Boundedness.CONTINUOUS_UNBOUNDED : Boundedness.BOUNDED;
    }

    @Override
    public SourceReader<IncomingNews, NewsSplit> createReader(SourceReaderContext context) {
        return new NewsSourceReader(context, s -> NewsFeed.open(s, settings, credentials));
    }

    @Override
    public SplitEnumerator<NewsSplit, List<NewsSplit>> createEnumerator(SplitEnumeratorContext<NewsSplit> context) {
        return new NewsSplitEnumerator(context, List.of(split));
    }

    @Override
    public SplitEnumerator<NewsSplit, List<NewsSplit>> restoreEnumerator(SplitEnumeratorContext<NewsSplit> context, List<NewsSplit> pending) {
        return new NewsSplitEnumerator(context, pending);
    }

    @Override
    public SimpleVersionedSerializer<NewsSplit> getSplitSerializer() {
        return new NewsSplitSerializer();
    }

    @Override
    public SimpleVersionedSerializer<List<NewsSplit>> getEnumeratorCheckpointSerializer() {
        return new NewsSplitSerializer.Pending();
    }
}
