package dev.finadvisor.inference;

import dev.finadvisor.domain.prompt.PromptTemplates;
import dev.finadvisor.domain.util.Timer;
import dev.finadvisor.retrieval.MiniLmEmbedder;
import dev.finadvisor.retrieval.VectorStore;
import dev.finadvisor.retrieval.VectorStores;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Everything the advisor serves with, loaded from disk: model (+ adapters), embedder, news store, one chain per served model. */
public final class AdvisorRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdvisorRuntime.class);
    private final ServedModels models;
    private final MiniLmEmbedder embedder;
    private final VectorStore store;

    private AdvisorRuntime(ServedModels models, MiniLmEmbedder embedder, VectorStore store) {
        this.models = models;
        this.embedder = embedder;
        this.store = store;
    }

    public ServedModels models() {
        return models;
    }

    /**
     * Loads the checkpoint with its weights as {@code model.weights} says and the adapters (none: the base model; one: as
     * before, merged into fp32 weights; several: all unmerged on the one base, the base alone served too), opens the
     * store read-only and the embedder; the first adapter is the default model.
     */
    public static AdvisorRuntime load(ServeConfig config, Path checkpoint, List<ServedAdapter.Named> adapters, Clock clock) {
        MiniLmEmbedder embedder = null;
        VectorStore store = null;
        LanguageModelGenerator generator = null;
        try {
            try (Timer t = Timer.log("open news store " + config.store().path())) {
                store = VectorStores.openForSearch(config.store(), MiniLmEmbedder.DIMENSION);
            }
            embedder = MiniLmEmbedder.load("quantized".equals(config.retrieval().embedder())
                    ? MiniLmEmbedder.Variant.QUANTIZED : MiniLmEmbedder.Variant.FULL, MiniLmEmbedder.OverLength.TRUNCATE);
            generator = LanguageModelGenerator.load(checkpoint, adapters.stream().map(a -> a.adapter().adapter()).toList(),
                    config.model().format(), config.server().batching());
            Supplier<Set<String>> symbols = symbols(store, config);
            if (symbols != null) symbols.get(); // read once now, so the first question does not wait for it
            NewsRetriever retriever = new NewsRetriever(embedder, store, symbols, new SymbolDetector(config.retrieval().company_names()),
                    config.retrieval().candidates(), config.retrieval().symbol_filter() && symbols != null, clock);
            String configured = config.generation().template();
            List<AdviceChain> chains = new ArrayList<>();
            for (int i = 0; i < adapters.size(); i++) {
                ServedAdapter a = adapters.get(i).adapter();
                String template = ServedAdapter.chooseTemplate(configured, a);
                // one adapter is part of the model as loaded; several are picked per generation (adapter i + 1)
                chains.add(new AdviceChain(generator.forAdapter(adapters.size() == 1 ? 0 : i + 1), PromptTemplates.byName(template, checkpoint),
                        retriever, config, a.id(), adapters.get(i).name()));
            }
            if (adapters.size() != 1) {
                String template = adapters.isEmpty() || configured != null && !configured.isBlank()
                        ? ServedAdapter.chooseTemplate(configured, null) : chains.get(0).templateName();
                chains.add(new AdviceChain(generator.forAdapter(0), PromptTemplates.byName(template, checkpoint), retriever, config, null));
            }
            ServedModels models = new ServedModels(chains, generator);
            log.info("advisor ready: model {}, serving {}, store {} ({} points)", generator.modelId(), models.names(),
                    config.store().path(), store.count());
            return new AdvisorRuntime(models, embedder, store);
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
        try {
            models.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the model failed", e);
        }
        embedder.close();
        store.close();
    }
}
