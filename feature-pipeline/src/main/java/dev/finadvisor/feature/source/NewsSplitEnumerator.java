package dev.finadvisor.feature.source;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;

/** Hands the news splits to the first reader that asks (news is one ordered feed) and keeps unassigned ones in checkpoints. */
final class NewsSplitEnumerator implements SplitEnumerator<NewsSplit, List<NewsSplit>> {
    private final SplitEnumeratorContext<NewsSplit> context;
    private final List<NewsSplit> pending;

    NewsSplitEnumerator(SplitEnumeratorContext<NewsSplit> context, List<NewsSplit> pending) {
        this.context = context;
        this.pending = new ArrayList<>(pending);
    }

    @Override
    public void start() {}

    @Override
    public void handleSplitRequest(int subtaskId, String requesterHostname) {
        for (NewsSplit split : pending) context.assignSplit(split, subtaskId);
        pending.clear();
        context.signalNoMoreSplits(subtaskId);
    }

    @Override
    public void addSplitsBack(List<NewsSplit> splits, int subtaskId) {
        pending.addAll(splits); // the reader that failed asks again when it restarts
    }

    @Override
    public void addReader(int subtaskId) {}

    @Override
    public List<NewsSplit> snapshotState(long checkpointId) {
        return List.copyOf(pending);
    }

    @Override
    public void close() {}
}
