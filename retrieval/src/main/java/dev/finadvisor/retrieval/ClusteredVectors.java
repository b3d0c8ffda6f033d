package dev.finadvisor.retrieval;

import java.util.Random;

/**
 * Synthetic unit vectors shaped like sentence embeddings, for tests and benchmarks: points fall
 * into {@code clusters} topics, and within a topic vary mostly along a few directions of their own
 * (text embeddings have a low intrinsic dimension) plus a little isotropic noise. Uniform random
 * vectors would be the wrong test: in 384 dimensions all their pairwise cosines are ~0, so "nearest"
 * means nothing and no ANN index finds it. Vector {@code i} depends only on the seed and {@code i}.
 */
public final class ClusteredVectors {
    private final int dimension;
    private final long seed;
    private final float[][] centroids;
    private final float[][][] directions; // [cluster][intrinsic][dimension]
    private final double spread;
    private final double noise;

    public ClusteredVectors(int dimension, int clusters, int intrinsicDimension, long seed) {
        this(dimension, clusters, intrinsicDimension, 0.6, 0.15, seed);
    }

    /** {@code spread}: length of the in-topic variation; {@code noise}: length of the isotropic noise (centroids have length 1). */
    public ClusteredVectors(int dimension, int clusters, int intrinsicDimension, double spread, double noise, long seed) {
        this.dimension = dimension;
        this.seed = seed;
        this.spread = spread;
        this.noise = noise;
        Random random = new Random(seed);
        centroids = new float[clusters][];
        directions = new float[clusters][intrinsicDimension][];
        for (int c = 0; c < clusters; c++) {
            centroids[c] = gaussian(random, dimension, 1.0);
            for (int j = 0; j < intrinsicDimension; j++) directions[c][j] = gaussian(random, dimension, 1.0);
        }
    }

    public int dimension() {
        return dimension;
    }

    public int clusters() {
        return centroids.length;
    }

    /** Which topic vector {@code i} belongs to. */
    public int clusterOf(long i) {
        return (int) Math.floorMod(mix(i) >>> 1, (long) centroids.length);
    }

    /** The {@code i}-th data vector (unit length). */
    public float[] vector(long i) {
        return draw(new Random(mix(i)), clusterOf(i));
    }

    /** The {@code i}-th query: a fresh draw from a topic, not a copy of any data vector. */
    public float[] query(long i) {
        long m = mix(~i ^ 0x5DEECE66DL);
        return draw(new Random(m), (int) Math.floorMod(m >>> 1, (long) centroids.length));
    }

    private float[] draw(Random random, int cluster) {
        float[] v = centroids[cluster].clone();
        float[][] dirs = directions[cluster];
        double perDirection = spread / Math.sqrt(dirs.length);
        for (float[] dir : dirs) {
            double z = random.nextGaussian() * perDirection;
            for (int d = 0; d < dimension; d++) v[d] += (float) (z * dir[d]);
        }
        double perComponent = noise / Math.sqrt(dimension);
        for (int d = 0; d < dimension; d++) v[d] += (float) (random.nextGaussian() * perComponent);
        return normalise(v);
    }

    private long mix(long i) {
        long z = seed * 0x9E3779B97F4A7C15L + i + 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A random direction of length {@code length}. */
    private static float[] gaussian(Random random, int dimension, double length) {
        float[] v = new float[dimension];
        for (int d = 0; d < dimension; d++) v[d] = (float) random.nextGaussian();
        float[] u = normalise(v);
        for (int d = 0; d < dimension; d++) u[d] *= (float) length;
        return u;
    }

    public static float[] normalise(float[] v) {
        double norm = 0;
        for (float x : v) norm += (double) x * x;
        norm = Math.sqrt(norm);
        for (int d = 0; d < v.length; d++) v[d] = (float) (v[d] / norm);
        return v;
    }
}
