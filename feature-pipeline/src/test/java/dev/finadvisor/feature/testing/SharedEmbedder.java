package dev.finadvisor.feature.testing;

import dev.finadvisor.retrieval.Embedder;
import dev.finadvisor.retrieval.MiniLmEmbedder;
import java.util.List;

/**
 * The real all-MiniLM-L6-v2, loaded once per test JVM and handed to every job as an embedder the
 * sink may "close" without closing the model (loading it costs seconds per job otherwise).
 */
public final class SharedEmbedder implements Embedder {
    private static MiniLmEmbedder model;

    public static synchronized MiniLmEmbedder model() {
        if (model == null) model = MiniLmEmbedder.load();
        return model;
    }

    public static Embedder open() {
        return new SharedEmbedder();
    }

    @Override
    public int dimension() {
        return model().dimension();
    }

    @Override
    public int countTokens(String text) {
        return model().countTokens(text);
    }

    @Override
    public int maxTokens() {
        return model().maxTokens();
    }

    @Override
    public float[] embed(String text) {
        return model().embed(text);
    }

    @Override
    public List<float[]> embedAll(List<String> texts) {
        return model().embedAll(texts);
    }
}
