package dev.finadvisor.inference;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.prompt.PromptTemplate;
import dev.finadvisor.domain.prompt.PromptTemplates;
import dev.finadvisor.domain.util.Timer;
import dev.finadvisor.retrieval.MiniLmEmbedder;
import dev.finadvisor.retrieval.VectorStore;
import dev.finadvisor.retrieval.VectorStores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
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

    /** Loads the checkpoint, merges the adapter (may be null), opens the store read-only and the embedder. */
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
            generator = LanguageModelGenerator.load(checkpoint, adapter == null ? null : adapter.adapter());
            Supplier<Set<String>> symbols = symbols(store, config);
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

    private static Supplier<Set<String>> symbols(VectorStore store, ServeConfig config) {
        if (!config.retrieval().symbol_filter()) return null;
        try {
            store.symbols();
            return new StoreSymbols(store, Duration.ofMinutes(1));
        } catch (UnsupportedOperationException e) {
            log.warn("retrieval.symbol_filter is on but {}; questions naming tickers search all news", e.getMessage());
            return null;
        }
    }

    /**
     * A model folder, or a Hugging Face id ({@code org/name}) found in the local Hugging Face cache
     * ({@code $HF_HUB_CACHE}, else {@code $HF_HOME/hub}, else {@code ~/.cache/huggingface/hub}): nothing is downloaded.
     */
    public static Path resolveModel(String pathOrId, Map<String, String> env) {
        Path p = Path.of(pathOrId);
        if (Files.isDirectory(p)) return p.toAbsolutePath().normalize();
        if (!pathOrId.matches("[A-Za-z0-9][\\w.-]*/[\\w.-]+")) {
            throw new UserError("--model " + pathOrId + ": no such folder; give a Hugging Face checkpoint folder or a hub id (org/name) already in the local cache");
        }
        Path hub = env.containsKey("HF_HUB_CACHE") ? Path.of(env.get("HF_HUB_CACHE"))
                : env.containsKey("HF_HOME") ? Path.of(env.get("HF_HOME"), "hub")
                : Path.of(System.getProperty("user.home"), ".cache", "huggingface", "hub");
        Path repo = hub.resolve("models--" + pathOrId.replace("/", "--"));
        Path ref = repo.resolve("refs").resolve("main");
        try {
            if (Files.isRegularFile(ref)) {
                Path snapshot = repo.resolve("snapshots").resolve(Files.readString(ref).strip());
                if (Files.isDirectory(snapshot)) return snapshot;
            }
        } catch (java.io.IOException e) {
            throw new UserError(ref + ": unreadable (" + e.getMessage() + ")", e);
        }
        throw new UserError("--model " + pathOrId + ": not a folder and not in the Hugging Face cache " + hub
                + "; nothing is downloaded at run time: fetch it first (e.g. huggingface-cli download " + pathOrId
                + " --local-dir DIR) and pass --model DIR");
    }

    @Override
    public void close() {
        chain.close();
        embedder.close();
        store.close();
    }
}
