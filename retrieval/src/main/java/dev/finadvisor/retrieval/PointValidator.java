package dev.finadvisor.retrieval;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Checks points and query vectors before a store writes or searches anything, so a bad batch is
 * refused whole with a message naming the point and the field.
 */
public final class PointValidator {
    /** Longest point id, in UTF-8 bytes (Lucene terms and Qdrant payloads take far more; ids are article#chunk). */
    public static final int MAX_ID_BYTES = 512;
    /** How far a vector's length may stray from 1 (float rounding of a normalised 384-d vector is ~1e-7). */
    public static final double UNIT_TOLERANCE = 1e-3;

    private final int dimension;

    public PointValidator(int dimension) {
        this.dimension = dimension;
    }

    public int dimension() {
        return dimension;
    }

    /** Throws {@link IllegalArgumentException} for the first bad point; checks every point before returning. */
    public void checkPoints(List<Point> points) {
        if (points == null) throw new IllegalArgumentException("points: null list");
        for (int i = 0; i < points.size(); i++) {
            Point p = points.get(i);
            String where = "point " + i + " of " + points.size();
            if (p == null) throw new IllegalArgumentException(where + ": null");
            if (p.id() == null || p.id().isBlank()) throw new IllegalArgumentException(where + ": empty id");
            int bytes = p.id().getBytes(StandardCharsets.UTF_8).length;
            if (bytes > MAX_ID_BYTES) {
                throw new IllegalArgumentException(where + ": id is " + bytes + " bytes long, at most " + MAX_ID_BYTES
                        + " allowed (id starts '" + p.id().substring(0, 40) + "')");
            }
            where = where + " (id '" + p.id() + "')";
            checkVector(p.vector(), where);
            ChunkPayload payload = p.payload();
            if (payload == null) throw new IllegalArgumentException(where + ": no payload");
            if (payload.createdAt() == null) throw new IllegalArgumentException(where + ": payload has no created_at");
            if (payload.text() == null) throw new IllegalArgumentException(where + ": payload has no text");
            if (payload.chunkIndex() < 0) {
                throw new IllegalArgumentException(where + ": chunk index " + payload.chunkIndex() + " is negative");
            }
        }
    }

    /** Every point must belong to {@code articleId}: replacing one article must not touch another. */
    public void checkArticle(long articleId, List<Point> points) {
        for (int i = 0; i < points.size(); i++) {
            long owner = points.get(i).payload().articleId();
            if (owner != articleId) {
                throw new IllegalArgumentException("point " + i + " (id '" + points.get(i).id() + "') belongs to article "
                        + owner + ", not to article " + articleId + " being replaced");
            }
        }
    }

    public void checkQuery(float[] query, int k) {
        if (k < 1) throw new IllegalArgumentException("k must be at least 1, got " + k);
        checkVector(query, "query vector");
    }

    private void checkVector(float[] v, String where) {
        if (v == null) throw new IllegalArgumentException(where + ": no vector");
        if (v.length != dimension) {
            throw new IllegalArgumentException(where + ": vector has " + v.length + " dimensions, the store holds "
                    + dimension + "-d vectors (was it embedded with another model?)");
        }
        double norm = 0;
        for (int d = 0; d < v.length; d++) {
            if (!Float.isFinite(v[d])) {
                throw new IllegalArgumentException(where + ": vector component " + d + " is " + v[d]);
            }
            norm += (double) v[d] * v[d];
        }
        norm = Math.sqrt(norm);
        if (Math.abs(norm - 1) > UNIT_TOLERANCE) {
            throw new IllegalArgumentException(where + ": vector length is " + norm
                    + ", expected unit length (normalise it: the store ranks by dot product = cosine)");
        }
    }
}
