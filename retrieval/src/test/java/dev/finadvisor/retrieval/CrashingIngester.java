package dev.finadvisor.retrieval;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Child-JVM main for {@link LuceneVectorStoreCrashTest}: ingests batches of points into a store
 * without end, committing after each and then printing {@code committed N} (N = points committed
 * so far), until the parent kills it with SIGKILL.
 */
public final class CrashingIngester {
    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        int batch = Integer.parseInt(args[1]);
        ClusteredVectors vectors = TestPoints.vectors(384, 21);
        try (var store = LuceneVectorStore.open(dir, 384)) {
            long next = store.count(); // articles are numbered 0..count-1, one chunk each
            while (true) {
                List<Point> points = new ArrayList<>(batch);
                for (int i = 0; i < batch; i++, next++) {
                    points.add(TestPoints.point(next, 0, vectors.vector(next), Instant.ofEpochSecond(1_700_000_000L + next),
                            List.of(TestPoints.TICKERS.get((int) (next % TestPoints.TICKERS.size())))));
                }
                store.upsert(points);
                // Some points stay uncommitted when the kill lands: those may be lost, no others.
                store.upsert(List.of(TestPoints.point(-1 - next, 0, vectors.vector(-1 - next), Instant.EPOCH, List.of())));
                store.commit();
                System.out.println("committed " + next);
                System.out.flush();
            }
        }
    }
}
