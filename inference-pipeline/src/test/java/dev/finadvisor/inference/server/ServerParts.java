package dev.finadvisor.inference.server;

import dev.finadvisor.inference.LanguageModelGenerator;
import dev.finadvisor.inference.NewsFixture;
import dev.finadvisor.inference.TinyModel;
import dev.finadvisor.llm.LanguageModel;
import dev.finadvisor.retrieval.LuceneVectorStore;
import dev.finadvisor.retrieval.MiniLmEmbedder;
import java.nio.file.Path;
import java.time.Instant;

/**
 * What the server tests serve, loaded once per test class: the quantized MiniLM, a real Lucene store holding
 * {@link NewsFixture}'s articles dated around {@code now}, and the tiny random Llama with a generator over it.
 */
final class ServerParts implements AutoCloseable {
    final MiniLmEmbedder embedder;
    final LuceneVectorStore store;
    final LanguageModel model;
    final LanguageModelGenerator tiny;

    ServerParts(Path dir, Instant now) throws Exception {
        embedder = MiniLmEmbedder.load(MiniLmEmbedder.Variant.QUANTIZED, MiniLmEmbedder.OverLength.TRUNCATE);
        store = LuceneVectorStore.open(dir.resolve("store"), embedder.dimension());
        NewsFixture.load(store, embedder, now);
        model = LanguageModel.load(TinyModel.write(dir.resolve("tiny-llama")));
        tiny = new LanguageModelGenerator(model, "tiny-llama");
    }

    @Override
    public void close() {
        tiny.close(); // and its model
        store.close();
        embedder.close();
    }
}
