package dev.finadvisor.inference;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.prompt.PromptTemplate;
import dev.finadvisor.domain.qa.QaSample;
import dev.finadvisor.domain.qa.QaSample.Exchange;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;

/**
 * The advisor's RAG chain: clean the question, retrieve recent news, assemble it within a token
 * budget, render the adapter's training template with the last exchanges of history, generate.
 * {@link #prepare} and {@link #generate} are separate so the server can retrieve on request threads
 * and generate beside other requests (the model decodes them together).
 */
public final class AdviceChain implements AutoCloseable {
    private final TextGenerator generator;
    private final PromptTemplate template;
    private final NewsRetriever retriever;
    private final ServeConfig config;
    private final String adapterId;
    private final String name;

    public AdviceChain(TextGenerator generator, PromptTemplate template, NewsRetriever retriever, ServeConfig config, String adapterId) {
        this(generator, template, retriever, config, adapterId, null);
    }

    /** {@code name}: what clients call it ({@code model} in chat completions, {@code adapter} in advice); null: the default name. */
    public AdviceChain(TextGenerator generator, PromptTemplate template, NewsRetriever retriever, ServeConfig config, String adapterId,
                       String name) {
        this.generator = generator;
        this.template = template;
        this.retriever = retriever;
        this.config = config;
        this.adapterId = adapterId;
        this.name = name;
    }

    public String modelId() {
        return generator.modelId();
    }

    /** The adapter's id (folder name or registry reference), or null when serving the base model. */
    public String adapterId() {
        return adapterId;
    }

    /** The name clients see in /v1/models: the name it was served under, else base model plus adapter. */
    public String servedModelName() {
        if (name != null) return name;
        return adapterId == null ? modelId() : modelId() + "+" + adapterId;
    }

    /** The news this chain retrieves from (every served model shares one). */
    public NewsRetriever retriever() {
        return retriever;
    }

    public String templateName() {
        return template.name();
    }

    /** Retrieves, assembles and renders; throws {@link PromptTooLong} when even a prompt without news does not fit. */
    public PreparedAdvice prepare(AdviceRequest request) {
        String question = QuestionCleaner.clean(request.question());
        String aboutMe = QuestionCleaner.cleanKeepLines(request.aboutMe());
        int keep = config.generation().history_exchanges();
        List<Exchange> all = request.history();
        List<Exchange> history = all.subList(Math.max(0, all.size() - keep), all.size()).stream()
                .map(e -> new Exchange(QuestionCleaner.clean(e.question()), QuestionCleaner.cleanKeepLines(e.answer())))
                .toList();
        AdviceOptions options = request.options();

        Retrieval retrieval = retriever.retrieve(question, options.k(), options.since());
        String withoutNews = render(aboutMe, "", question, history);
        int fixedTokens = generator.countTokens(withoutNews);
        int room = generator.maxSequenceLength() - options.maxNewTokens() - fixedTokens;
        if (room < 0) {
            throw new PromptTooLong(fixedTokens, options.maxNewTokens(), generator.maxSequenceLength());
        }
        // The news block costs a little more inside the template than alone (separators): keep a margin.
        int budget = Math.min(config.retrieval().context_tokens(), room - 8);
        NewsContext.Assembled news = NewsContext.assemble(retrieval.articles(), budget, generator::countTokens);
        String prompt = news.text().isEmpty() ? withoutNews : render(aboutMe, news.text(), question, history);
        int promptTokens = news.text().isEmpty() ? fixedTokens : generator.countTokens(prompt);

        Map<String, Object> vars = new LinkedHashMap<>();
        vars.put("about_me", aboutMe);
        vars.put("question", question);
        vars.put("context", news.text());
        vars.put("chat_history", history.stream().map(e -> Map.of("question", e.question(), "answer", e.answer())).toList());
        return new PreparedAdvice(vars, retrieval, news.cited(), prompt, promptTokens, sampling(options));
    }

    private String render(String aboutMe, String context, String question, List<Exchange> history) {
        return template.render(QaSample.forInference(aboutMe, context, question, history), false).text();
    }

    /** Generations the model runs at once. */
    public int maxBatch() {
        return generator.maxBatch();
    }

    /** The model's continuous batching, for metrics (null: none). */
    public dev.finadvisor.llm.BatchedGenerator batching() {
        return generator.batching();
    }

    public Generation generate(PreparedAdvice prepared, TokenSink sink, BooleanSupplier cancelled) {
        return generator.generate(prepared.prompt(), prepared.sampling(), sink, cancelled);
    }

    private Sampling sampling(AdviceOptions options) {
        var g = config.generation();
        long seed = options.seed() != null ? options.seed() : g.seed() >= 0 ? g.seed() : ThreadLocalRandom.current().nextLong(Long.MAX_VALUE);
        return new Sampling(options.maxNewTokens(), options.temperature(), g.top_k(), options.topP(), g.repetition_penalty(), seed,
                List.of(template.endOfAnswer()));
    }

    @Override
    public void close() {
        try {
            generator.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the model failed", e);
        }
    }

    /** The request's own text (without any news) leaves no room for the answer in the model's context. */
    public static final class PromptTooLong extends UserError {
        public PromptTooLong(int promptTokens, int maxNewTokens, int maxSequence) {
            super("the prompt without news is " + promptTokens + " tokens and max_new_tokens is " + maxNewTokens
                    + ", but the model holds " + maxSequence + " tokens in all; shorten about_me, question or history, or ask for fewer tokens");
        }
    }
}
