package dev.finadvisor.retrieval;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;

/** Random unit vectors and news-like points for store tests, plus the exact (brute-force) answer. */
final class TestPoints {
    static final Instant T0 = Instant.parse("2026-01-05T14:00:00Z");
    static final List<String> TICKERS = List.of("AAPL", "MSFT", "NVDA", "TSLA", "AMZN", "META", "GOOG", "JPM");

    private TestPoints() {}

    static float[] unit(Random random, int dimension) {
        float[] v = new float[dimension];
        double norm = 0;
        for (int i = 0; i < dimension; i++) {
            v[i] = (float) random.nextGaussian();
            norm += v[i] * v[i];
        }
        for (int i = 0; i < dimension; i++) v[i] /= (float) Math.sqrt(norm);
        return v;
    }

    static ChunkPayload payload(long article, int chunk, Instant createdAt, List<String> symbols) {
        return new ChunkPayload(article, chunk, "chunk " + chunk + " of article " + article, "Headline " + article,
                "Summary " + article, "https://news.example/" + article, symbols, "benzinga", "Reporter",
                createdAt, createdAt.plusSeconds(60));
    }

    static Point point(long article, int chunk, float[] vector, Instant createdAt, List<String> symbols) {
        ChunkPayload p = payload(article, chunk, createdAt, symbols);
        return new Point(p.pointId(), vector, p);
    }

    /** Clustered like real embeddings (see {@link ClusteredVectors}): 20 topics, 8 directions each. */
    static ClusteredVectors vectors(int dimension, long seed) {
        return new ClusteredVectors(dimension, 20, 8, seed);
    }

    /** {@code n} points, one chunk per article, an hour apart, each naming one or two tickers. */
    static List<Point> news(int n, int dimension, long seed) {
        ClusteredVectors vectors = vectors(dimension, seed);
        List<Point> points = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            List<String> symbols = i % 3 == 0
                    ? List.of(TICKERS.get(i % TICKERS.size()), TICKERS.get((i + 3) % TICKERS.size()))
                    : List.of(TICKERS.get(i % TICKERS.size()));
            points.add(point(1000 + i, 0, vectors.vector(i), T0.plusSeconds(3600L * i), symbols));
        }
        return points;
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }

    /** The ids of the exact top {@code k} among points passing {@code keep}. */
    static List<String> exactTop(List<Point> points, float[] query, int k, Predicate<Point> keep) {
        return points.stream().filter(keep)
                .sorted(Comparator.comparingDouble((Point p) -> -dot(p.vector(), query)))
                .limit(k).map(Point::id).toList();
    }
}
