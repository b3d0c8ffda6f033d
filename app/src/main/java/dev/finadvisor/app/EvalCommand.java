package dev.finadvisor.app;

import dev.finadvisor.domain.config.ConfigLoader;
import dev.finadvisor.domain.config.Secret;
import dev.finadvisor.domain.config.Secrets;
import dev.finadvisor.domain.prompt.PromptTemplate;
import dev.finadvisor.domain.prompt.PromptTemplates;
import dev.finadvisor.domain.qa.QaCleaner;
import dev.finadvisor.domain.qa.QaDataset;
import dev.finadvisor.domain.qa.QaSample;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.inference.ServeConfig;
import dev.finadvisor.inference.NewsRetriever;
import dev.finadvisor.inference.QuestionCleaner;
import dev.finadvisor.inference.ServedAdapter;
import dev.finadvisor.inference.SymbolDetector;
import dev.finadvisor.llm.LanguageModel;
import dev.finadvisor.llm.hub.ModelLocator;
import dev.finadvisor.llm.lowbit.WeightFormat;
import dev.finadvisor.training.eval.EvalReport;
import dev.finadvisor.training.eval.Evaluation;
import dev.finadvisor.training.eval.Evaluator;
import dev.finadvisor.training.eval.Gate;
import dev.finadvisor.training.eval.Judge;
import dev.finadvisor.training.eval.Metrics;
import dev.finadvisor.training.eval.RetrievalHits;
import dev.finadvisor.retrieval.MiniLmEmbedder;
import dev.finadvisor.retrieval.StoreConfig;
import dev.finadvisor.retrieval.VectorStore;
import dev.finadvisor.retrieval.VectorStores;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Measures a model (and its adapter) on Q&A samples: answer loss, perplexity, ROUGE-L of greedy answers; gates on them. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Evaluate a model, alone or with a LoRA adapter, on Q&A samples with references: answer-token loss and perplexity"
                + " (teacher-forced, the training template), greedy answers as the server writes them scored with ROUGE-L F1, latency"
                + " and tokens/s, and optionally an LLM judge's grades. Writes report.json and report.html into --out.",
                "Ctrl-C stops after the sample under way and writes a partial report. Exit status 3: a --fail-under bar was missed."})
final class EvalCommand implements Callable<Integer> {
    /** Exit status when a metric misses its --fail-under bar. */
    static final int GATE_MISSED = 3;

    @Option(names = "--model", required = true, paramLabel = "PATH_OR_ID",
            description = "Base checkpoint: a Hugging Face folder or a hub id org/name[@revision] (as generate takes it).")
    String model;

    @Option(names = "--adapter", paramLabel = "DIR|registry:NAME@ALIAS|registry:NAME:VERSION",
            description = "LoRA adapter to evaluate on the model (applied unmerged): a PEFT folder or a registered version. Default: the base alone.")
    String adapter;

    @Mixin
    RegistryCommand.RegistryDir registry;

    @Option(names = "--data", required = true, paramLabel = "FILE",
            description = "Q&A samples with reference responses (JSON array or JSON Lines: about_me, context, question, response), e.g. a run's validation split. Cleaned as training cleans them.")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for report.json and report.html (created).")
    Path out;

    @Option(names = "--compare", description = "Evaluate the base alone and base + adapter on the same samples, side by side with the difference.")
    boolean compare;

    @Option(names = "--max-samples", paramLabel = "N", description = "Evaluate the first N samples only.")
    Integer maxSamples;

    @Option(names = "--weights", paramLabel = "FORMAT", defaultValue = "auto",
            description = "How the model's weights are held: fp32, bf16, int8, nf4 or auto (default: ${DEFAULT-VALUE}, the checkpoint's own precision), as generate has it.")
    String weights;

    @Option(names = "--template", paramLabel = "NAME",
            description = "Prompt template (falcon, chatml, llama3, model). Default: the one the adapter was trained with; needed without an adapter.")
    String template;

    @Option(names = "--max-new-tokens", paramLabel = "N", description = "Longest answer generated (default: the server's generation.max_new_tokens, 256).")
    Integer maxNewTokens;

    @Option(names = "--max-seq-length", paramLabel = "N", defaultValue = "1024",
            description = "Tokens of a sample scored by the loss; longer samples are cut, as in training (default: ${DEFAULT-VALUE}).")
    int maxSeqLength;

    @Option(names = "--store", paramLabel = "DIR",
            description = "A Lucene news index: also measure retrieval_hit_rate, the share of samples whose news context the server's retrieval brings back for their question (within -k articles, any date).")
    Path store;

    @Option(names = {"-k", "--k"}, paramLabel = "K", description = "Articles retrieved per question for retrieval_hit_rate (default: the server's retrieval.k, 3).")
    Integer k;

    @Option(names = "--judge-url", paramLabel = "URL",
            description = "An OpenAI-compatible API (e.g. https://api.openai.com/v1, or vLLM's, Ollama's, finadvisor serve's .../v1) whose model grades every answer 1-5 for relevance, grounding in the news, fit to the persona and safety. Key: OPENAI_API_KEY when set.")
    String judgeUrl;

    @Option(names = "--judge-model", paramLabel = "NAME", description = "The judge's model name at --judge-url (required with it).")
    String judgeModel;

    @Option(names = "--judge-timeout", paramLabel = "SECONDS", defaultValue = "60", description = "Longest wait for one judge reply (default: ${DEFAULT-VALUE}).")
    int judgeTimeout;

    @Option(names = "--fail-under", paramLabel = "METRIC=VALUE",
            description = "Exit with status 3 when METRIC misses VALUE: below it, or above it for loss, perplexity, latency_ms and judge_missing (repeatable). Metrics: loss, perplexity, rouge_l, retrieval_hit_rate, judge_relevance, judge_grounding, judge_persona, judge_safety, judge_missing, latency_ms, tokens_per_s.")
    List<String> failUnder = new ArrayList<>();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        // Everything that can be wrong with the arguments fails here, before the model loads.
        Gate gate = Gate.parse(failUnder, Metrics.NAMES);
        if (compare && adapter == null) throw new UserError("--compare needs --adapter: it evaluates the base alone and base + adapter");
        if ((judgeUrl == null) != (judgeModel == null)) throw new UserError("--judge-url and --judge-model go together: the API and the model that grades");
        if (judgeTimeout < 1) throw new UserError("--judge-timeout is " + judgeTimeout + ", must be at least 1 second");
        Judge judge = judgeUrl == null ? null : new Judge(judgeUrl, judgeModel,
                Secrets.fromEnvironment().get(Secrets.OPENAI_API_KEY).map(Secret::reveal).orElse(null), Duration.ofSeconds(judgeTimeout), 3, Duration.ofSeconds(1));
        if (maxSamples != null && maxSamples < 1) throw new UserError("--max-samples is " + maxSamples + ", must be at least 1");
        WeightFormat format = WeightFormat.parse(weights, "--weights");
        ServeConfig serve = new ConfigLoader().load(ServeConfig.class, ServeConfig.DEFAULTS, null, List.of()).value();
        Evaluator.Settings settings = new Evaluator.Settings(maxNewTokens != null ? maxNewTokens : serve.generation().max_new_tokens(),
                serve.generation().repetition_penalty(), maxSeqLength);
        if (settings.maxNewTokens() < 1) throw new UserError("--max-new-tokens is " + settings.maxNewTokens() + ", must be at least 1");
        Path checkpoint = ModelLocator.fromEnvironment().resolve(model);
        ServedAdapter served = adapter == null ? null : ServedAdapter.resolve(adapter, registry.dir);
        PromptTemplate prompt = PromptTemplates.byName(templateName(template, served), checkpoint);
        List<QaSample> samples = QaCleaner.clean(QaDataset.load(data)).samples();
        if (maxSamples != null && samples.size() > maxSamples) samples = samples.subList(0, maxSamples);

        Map<String, Object> about = EvalReport.about(checkpoint.toString(), served == null ? null : served.id() + " (" + served.dir() + ")",
                data.toAbsolutePath().normalize().toString(), samples.size(), prompt.name(), format, settings,
                judge == null ? null : judgeModel + " at " + judgeUrl);

        int retrieveK = k != null ? k : serve.retrieval().k();
        if (retrieveK < 1) throw new UserError("-k is " + retrieveK + ", must be at least 1");
        List<RetrievalHits.Hit> hits = store == null ? null : retrievalHits(samples, retrieveK, serve);
        about.put("store", store == null ? null : store.toAbsolutePath().normalize() + " (k " + retrieveK + ")");

        AtomicBoolean cancelled = new AtomicBoolean();
        Evaluation.Result result;
        try (StopHook stop = StopHook.install("eval-stop", () -> { // Ctrl-C: stop after the sample under way, write what was scored
            cancelled.set(true);
            System.err.println("stopping: the report of the samples scored so far is written (marked partial)");
        }, Duration.ofSeconds(60))) {
            try (LanguageModel lm = LanguageModel.load(checkpoint, format)) {
                result = Evaluation.run(lm, served == null ? null : served.adapter(), compare, prompt, settings, samples, judge, cancelled::get).withRetrieval(hits);
            }
            Path html = EvalReport.write(out, about, samples, result);
            print(stdout, result);
            warnUnscored(stdout, result, checkpoint);
            stdout.printf("report: %s and %s%s%n", out.resolve("report.json"), html, result.partial() ? " (partial)" : "");
            stdout.flush();
        }
        if (result.partial()) return 130;
        List<String> missed = gate.missed(result.metrics().get(result.subject()));
        for (String m : missed) stdout.println("fail-under: " + m);
        stdout.flush();
        return missed.isEmpty() ? 0 : GATE_MISSED;
    }

    /**
     * Each sample's retrieval hit: its question's news as the server retrieves it (the k best distinct articles, no
     * recency window: evaluation data is older than a week), scored against the sample's context.
     */
    private List<RetrievalHits.Hit> retrievalHits(List<QaSample> samples, int retrieveK, ServeConfig serve) {
        List<RetrievalHits.Hit> hits = new ArrayList<>();
        try (VectorStore news = VectorStores.openForSearch(StoreConfig.lucene(store), MiniLmEmbedder.DIMENSION); MiniLmEmbedder embedder = MiniLmEmbedder.load()) {
            NewsRetriever retriever = new NewsRetriever(embedder, news, Set::of, new SymbolDetector(Map.of()),
                    serve.retrieval().candidates(), false, Clock.systemUTC());
            for (QaSample s : samples) {
                List<RetrievalHits.Chunk> chunks = retriever.retrieve(QuestionCleaner.clean(s.question()), retrieveK, ALL_TIME).articles().stream()
                        .map(h -> new RetrievalHits.Chunk(h.payload().headline(), h.payload().text())).toList();
                hits.add(RetrievalHits.of(s.context(), chunks));
            }
        }
        return hits;
    }

    /** A recency window that keeps every article. */
    private static final Duration ALL_TIME = Duration.ofDays(365L * 1000);

    /** The adapter's training template; {@code given} (--template) must agree with it, and is needed without one. */
    static String templateName(String given, ServedAdapter served) {
        String trained = served == null ? null : served.template();
        if (trained != null && given != null && !given.equals(trained)) {
            throw new UserError("--template is '" + given + "' but adapter " + served.id() + " was trained with '" + trained
                    + "'; drop --template (the adapter's is used): a different template shows the model prompts it never saw");
        }
        if (trained != null) return trained;
        if (given != null) return given;
        throw new UserError(served == null
                ? "give --template (falcon, chatml, llama3 or model): without an adapter there is no training template to follow"
                : "adapter " + served.id() + " records no prompt template (nor does its run): give --template, the one it was trained with");
    }

    /** Samples a metric could not use, said rather than averaged away: prompts past the context, answers past max_seq_length. */
    private void warnUnscored(PrintWriter out, Evaluation.Result result, Path checkpoint) {
        result.scores().forEach((label, scores) -> {
            long noAnswer = scores.stream().filter(s -> s.finishReason().equals("prompt_too_long")).count();
            long noLoss = scores.stream().filter(s -> s.answerTokens() == 0).count();
            if (noAnswer > 0) {
                out.printf("warning: %s: %d of %d prompts fill the context of %s: no answer generated for them (finish_reason prompt_too_long)%n",
                        label, noAnswer, scores.size(), checkpoint.getFileName());
            }
            if (noLoss > 0) {
                out.printf("warning: %s: %d of %d reference answers start past %d tokens (--max-seq-length, or the model's context): no loss for them%n",
                        label, noLoss, scores.size(), maxSeqLength);
            }
        });
    }

    private static void print(PrintWriter out, Evaluation.Result result) {
        Map<String, Map<String, Double>> metrics = result.metrics();
        List<String> labels = new ArrayList<>(metrics.keySet());
        if (labels.isEmpty()) {
            out.println("no sample was scored");
            return;
        }
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%-14s", "metric"));
        for (String l : labels) header.append(String.format(Locale.ROOT, "%14s", l));
        if (labels.size() > 1) header.append(String.format(Locale.ROOT, "%14s", "difference"));
        out.println(header);
        for (String metric : metrics.get(labels.get(0)).keySet()) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-14s", metric));
            for (String l : labels) row.append(String.format(Locale.ROOT, "%14.4f", metrics.get(l).getOrDefault(metric, Double.NaN)));
            if (labels.size() > 1) {
                row.append(String.format(Locale.ROOT, "%+14.4f", Metrics.difference(metrics.get(Evaluation.BASE), metrics.get(Evaluation.ADAPTER), metric)));
            }
            out.println(row);
        }
    }
}
