package dev.finadvisor.inference;

import dev.finadvisor.domain.prompt.PromptTemplate;
import dev.finadvisor.domain.prompt.PromptTemplates;
import dev.finadvisor.domain.util.Timer;
import dev.finadvisor.retrieval.MiniLmEmbedder;
import dev.finadvisor.retrieval.VectorStore;
import dev.finadvisor.retrieval.VectorStores;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Everything the advisor serves with, loaded from disk: model (+ adapter), embedder, news store, chain. */
public final class AdvisorRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdvisorRuntime.class);
    private final AdviceChain chain;
    private final MiniLmEmbedder embedder;
    private final VectorStore store;

    private AdvisorRuntime(AdviceChain chain, MiniLmEmbedder embedder, VectorStore store) {
        this.chain = chain;
        this.embedder = embedder;
        this.store = store;
    }

    public AdviceChain chain() {
        return chain;
    }

    /** Loads the checkpoint with its weights as {@code model.weights} says, applies the adapter (may be null), opens the store read-only and the embedder. */
    public static AdvisorRuntime load(ServeConfig config, Path checkpoint, ServedAdapter adapter, Clock clock) {
        String templateName = ServedAdapter.chooseTemplate(config.generation().template(), adapter);
        PromptTemplate template = PromptTemplates.byName(templateName, checkpoint);
        MiniLmEmbedder embedder = null;
        VectorStore store = null;
        LanguageModelGenerator generator = null;
        try {
            try (Timer t = Timer.log("open news store " + config.store().path())) {
                store = VectorStores.openForSearch(config.store(), MiniLmEmbedder.DIMENSION);
            }
            embedder = MiniLmEmbedder.load("quantized".equals(config.retrieval().embedder())
                    ? MiniLmEmbedder.Variant.QUANTIZED : MiniLmEmbedder.Variant.FULL, MiniLmEmbedder.OverLength.TRUNCATE);
            generator = LanguageModelGenerator.load(checkpoint, adapter == null ? null : adapter.adapter(), config.model().format(),
                    config.server().batching());
            Supplier<Set<String>> symbols = symbols(store, config);
            if (symbols != null) symbols.get(); // read once now, so the first question does not wait for it
            NewsRetriever retriever = new NewsRetriever(embedder, store, symbols, new SymbolDetector(config.retrieval().company_names()),
                    config.retrieval().candidates(), config.retrieval().symbol_filter() && symbols != null, clock);
            AdviceChain chain = new AdviceChain(generator, template, retriever, config, adapter == null ? null : adapter.id());
            log.info("advisor ready: model {}, adapter {}, template {}, store {} ({} points)", generator.modelId(),
                    adapter == null ? "none" : adapter.id(), templateName, config.store().path(), store.count());
            return new AdvisorRuntime(chain, embedder, store);
        } catch (RuntimeException e) {
            if (generator != null) generator.close();
            if (embedder != null) embedder.close();
            if (store != null) store.close();
            throw e;
        }
    }

    /** Every store lists its symbols; a listing that fails at run time degrades to no filter (see {@link StoreSymbols}). */
    private static Supplier<Set<String>> symbols(VectorStore store, ServeConfig config) {
        return config.retrieval().symbol_filter() ? new StoreSymbols(store, Duration.ofMinutes(1)) : null;
    }

    @Override
    public void close() {
        chain.close();
        embedder.close();
        store.close();
    }
}
