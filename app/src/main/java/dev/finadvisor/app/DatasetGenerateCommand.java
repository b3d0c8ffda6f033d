package dev.finadvisor.app;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.config.Secret;
import dev.finadvisor.domain.config.Secrets;
import dev.finadvisor.domain.news.NewsArticle;
import dev.finadvisor.retrieval.MiniLmEmbedder;
import dev.finadvisor.retrieval.StoreConfig;
import dev.finadvisor.retrieval.VectorStore;
import dev.finadvisor.retrieval.VectorStores;
import dev.finadvisor.training.dataset.NewsSample;
import dev.finadvisor.training.dataset.TeacherGenerator;
import dev.finadvisor.training.openai.ChatClient;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dataset generate}: a Q&A set written by a teacher LLM (distillation), resumable, through quality gates. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate a Q&A training set with a teacher LLM (distillation, as the course did with GPT-3.5): for each sample "
                + "a made-up investor and a news article are drawn, the teacher writes the investor's question and an expert's answer "
                + "justified by the news, and samples that pass the quality gates (length, reference to the news, no refusal or "
                + "boilerplate, no near-duplicate) are appended to FILE.jsonl; rejected replies go to FILE.jsonl.rejected.jsonl with the reason.",
                "Any OpenAI-compatible API (OpenAI, vLLM, Ollama, finadvisor serve); the key from OPENAI_API_KEY. Ctrl-C stops after the "
                        + "requests under way; --resume continues to exactly N samples."})
final class DatasetGenerateCommand implements Callable<Integer> {
    @Option(names = "--teacher-url", required = true, paramLabel = "URL", description = "The API's base URL, e.g. https://api.openai.com/v1 or http://localhost:8000/v1.")
    String teacherUrl;

    @Option(names = "--teacher-model", required = true, paramLabel = "NAME", description = "The teacher's model name, e.g. gpt-4o-mini.")
    String teacherModel;

    @Option(names = "--n", required = true, paramLabel = "N", description = "How many samples the file holds at the end.")
    int n;

    @Option(names = "--out", required = true, paramLabel = "FILE.jsonl", description = "Output, JSON Lines; with --resume, the file a stopped run left.")
    Path out;

    @Option(names = "--news", paramLabel = "FILE.jsonl", description = "Alpaca news objects, one per line, instead of the bundled sample.")
    Path news;

    @Option(names = "--news-store", paramLabel = "DIR", description = "Draw the news from a Lucene news index (the feature pipeline's) instead: its newest --news-limit articles.")
    Path newsStore;

    @Option(names = "--news-limit", paramLabel = "N", defaultValue = "1000", description = "How many of the store's newest articles to draw from (default: ${DEFAULT-VALUE}).")
    int newsLimit;

    @Option(names = "--concurrency", paramLabel = "K", defaultValue = "4", description = "Requests in flight at once (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--resume", description = "Continue the samples in --out: the slots written are kept, the others asked for.")
    boolean resume;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42", description = "Seeds the drawn investors and news (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60", description = "Longest wait for one reply (default: ${DEFAULT-VALUE}).")
    int timeout;

    @Option(names = "--attempts", paramLabel = "A", defaultValue = "4",
            description = "Tries per request on a malformed reply, a 429, a 5xx or a timeout, with a doubling wait (default: ${DEFAULT-VALUE}).")
    int attempts;

    @Option(names = "--price-input", paramLabel = "USD", defaultValue = "0", description = "Price per million prompt tokens, for the cost estimate.")
    double priceInput;

    @Option(names = "--price-output", paramLabel = "USD", defaultValue = "0", description = "Price per million completion tokens, for the cost estimate.")
    double priceOutput;

    @Option(names = "--no-dedup", description = "Skip the near-duplicate gate (it embeds every sample with all-MiniLM-L6-v2).")
    boolean noDedup;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (n < 1) throw new UserError("--n is " + n + ", must be at least 1");
        if (concurrency < 1 || concurrency > 64) throw new UserError("--concurrency is " + concurrency + ", must be 1 to 64");
        if (timeout < 1) throw new UserError("--timeout is " + timeout + ", must be at least 1 second");
        if (attempts < 1) throw new UserError("--attempts is " + attempts + ", must be at least 1");
        if (news != null && newsStore != null) throw new UserError("--news and --news-store are two sources of news: give one");
        if (newsLimit < 1) throw new UserError("--news-limit is " + newsLimit + ", must be at least 1");
        List<NewsArticle> articles = news != null ? NewsSample.load(news) : newsStore != null ? newest(newsStore, newsLimit) : NewsSample.bundled();
        String key = Secrets.fromEnvironment().get(Secrets.OPENAI_API_KEY).map(Secret::reveal).orElse(null);
        ChatClient client = new ChatClient(teacherUrl, key, Duration.ofSeconds(timeout), attempts, Duration.ofSeconds(1));
        AtomicBoolean cancelled = new AtomicBoolean();
        try (StopHook stop = StopHook.install("generate-stop", () -> { // Ctrl-C: no new request; those under way finish and are written
            cancelled.set(true);
            System.err.println("stopping: the requests under way finish and are written; --resume continues");
        }, Duration.ofSeconds(timeout + 10L));
             MiniLmEmbedder embedder = noDedup ? null : MiniLmEmbedder.load(MiniLmEmbedder.Variant.FULL, MiniLmEmbedder.OverLength.TRUNCATE)) {
            TeacherGenerator g = new TeacherGenerator(client, teacherModel, articles, embedder == null ? null : embedder::embed,
                    new TeacherGenerator.Settings(n, concurrency, seed, DRAWS), line -> {
                        out.println(line);
                        out.flush();
                    });
            return report(out, g.run(this.out, resume, cancelled::get)); // the summary is printed before the hook lets the JVM go
        }
    }

    /** Draws of investor and news per sample before it is given up. */
    static final int DRAWS = 5;

    private int report(PrintWriter out, TeacherGenerator.Report r) {
        double cost = (r.usage().promptTokens() * priceInput + r.usage().completionTokens() * priceOutput) / 1e6;
        out.printf(Locale.ROOT, "%s: %d of %d samples (%d written now); rejected %s; tokens: %,d prompt + %,d completion%s%n", this.out, r.total(), n,
                r.written(), r.rejected().isEmpty() ? "none" : r.rejected(), r.usage().promptTokens(), r.usage().completionTokens(),
                priceInput == 0 && priceOutput == 0 ? " (give --price-input/--price-output for a cost estimate)"
                        : String.format(Locale.ROOT, ", about $%.4f", cost));
        if (r.total() < n) {
            out.printf("%s: %d samples missing (%s); `--resume` continues%n", this.out, n - r.total(),
                    r.stopped() ? "stopped" : r.gaveUp() + " samples got no acceptable reply in " + DRAWS + " draws (rejected by the gates, or no reply: see above)");
            out.flush();
            return r.stopped() ? 130 : Main.FAILURE;
        }
        out.flush();
        return 0;
    }

    /** The store's newest articles, as their first chunks tell them (headline, summary, tickers, times). */
    private static List<NewsArticle> newest(Path store, int limit) {
        try (VectorStore index = VectorStores.openForSearch(StoreConfig.lucene(store), MiniLmEmbedder.DIMENSION)) {
            List<NewsArticle> articles = index.newestArticles(limit).stream().map(p -> new NewsArticle(p.articleId(), p.headline(), p.summary(),
                    p.author(), p.createdAt(), p.updatedAt(), p.url(), "", p.symbols(), p.source())).toList();
            if (articles.isEmpty()) throw new UserError("--news-store " + store + " holds no article: ingest news first (finadvisor ingest)");
            return articles;
        }
    }
}
