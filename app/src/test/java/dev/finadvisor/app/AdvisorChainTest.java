package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.inference.server.Browser;
import dev.finadvisor.training.dataset.NewsWriter;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quickstart's chain through the commands: news into a store, a corpus, a tokenizer and a model of our own, a
 * fine-tune, an evaluation, a server, a question over HTTP. One test runs it from scratch with small settings; the
 * other fine-tunes the committed models/finadvisor-mini as the quickstart does and holds its advice to the quality bars:
 * the adapter beats its base on held-out answer loss and ROUGE-L, and the answers are English about the asset asked about.
 */
class AdvisorChainTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir static Path shared;
    static Path store;
    static Path qa;

    @BeforeAll
    static void newsStoreAndQaSet() {
        Path news = shared.resolve("news.jsonl");
        assertThat(MainTest.run("dataset", "news", "--out", news.toString()).code()).isZero();
        store = shared.resolve("store");
        MainTest.Result ingest = MainTest.run("ingest", "--source", "jsonl", "--path", news.toString(), "--store", store.toString());
        assertThat(ingest.code()).as(ingest.err()).isZero();
        qa = shared.resolve("qa.jsonl");
        assertThat(MainTest.run("dataset", "synth", "--n", "64", "--seed", "7", "--out", qa.toString()).code()).isZero();
    }

    @Test
    void fromACorpusToAnAnswerOverHttp(@TempDir Path dir) throws Exception {
        Path corpus = dir.resolve("corpus.jsonl");
        MainTest.Result c = MainTest.run("dataset", "corpus", "--synth", "400", "--written-news", "100", "--held-out", qa.toString(), "--out", corpus.toString());
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(c.out()).contains("100 written news");
        java.util.regex.Matcher left = java.util.regex.Pattern.compile("([0-9,]+) left out as held out").matcher(c.out());
        assertThat(left.find()).as(c.out()).isTrue();
        assertThat(Integer.parseInt(left.group(1).replace(",", ""))).as("samples left out as held out").isPositive();
        Path tok = dir.resolve("tokenizer");
        assertThat(MainTest.run("tokenizer", "train", "--corpus", corpus.toString(), "--vocab-size", "512", "--out", tok.toString()).code()).isZero();
        MainTest.Result pre = MainTest.run("pretrain", "--set", "model.tokenizer=" + tok, "--set", "data.corpus=[" + corpus + "]",
                "--set", "model.hidden_size=32", "--set", "model.intermediate_size=64", "--set", "model.num_layers=2", "--set", "model.num_heads=2",
                "--set", "model.num_kv_heads=1", "--set", "model.max_seq_length=512", "--set", "training.batch_size=2", "--set", "training.max_steps=6",
                "--set", "training.eval_steps=6", "--set", "training.eval_blocks=2", "--set", "output_dir=" + dir.resolve("pre"));
        assertThat(pre.code()).as(pre.err()).isZero();
        Path base = onlyRun(dir.resolve("pre")).resolve("model");
        Path adapter = fineTune(base, dir.resolve("runs"), 4);
        assertThat(MainTest.run("registry", "push", adapter.getParent().toString(), "--name", "fin-advisor", "--alias", "production",
                "--registry", dir.resolve("registry").toString()).code()).isZero();
        String runId = onlyRun(dir.resolve("runs")).getFileName().toString();
        serve(base, "registry:fin-advisor@production", dir.resolve("registry"), dir.resolve("runs"), url -> {
            JsonNode answer = ask(url, "Should I add Nvidia after the latest AI chip news?", 8);
            assertThat(answer.get("usage").get("completion_tokens").asInt()).isBetween(1, 8);
            assertThat(answer.get("sources")).isNotEmpty();
            assertThat(answer.get("sources").get(0).get("headline").asText()).containsIgnoringCase("nvidia");
            pagesShowTheRunTheRegistryAndTheStore(url, dir.resolve("runs").resolve(runId));
        });
    }

    /** The Training and News pages in a real browser, over this run, its registry version and the ingested store. */
    private static void pagesShowTheRunTheRegistryAndTheStore(String url, Path run) throws Exception {
        String runId = run.getFileName().toString();
        List<JsonNode> logged = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) logged.add(JSON.readTree(line));
        long losses = logged.stream().filter(m -> m.has("loss")).count(), evals = logged.stream().filter(m -> m.has("eval_loss")).count();
        assertThat(losses).isPositive();
        assertThat(evals).isPositive();
        try (Browser b = Browser.start("training-and-news")) {
            b.open(url + "/training");
            b.await(30, d -> !b.all("#runs tr.run").isEmpty() && !b.all(".model tr.version").isEmpty());
            assertThat(b.unlabelledControls()).isEmpty();
            assertThat(b.find("#served").getText()).contains("fin-advisor:1 (@production)");
            assertThat(b.find(".model[data-model='fin-advisor'] tr.version").getText())
                    .contains(runId).contains("@production").contains("serving");
            assertThat(b.find("tr.run[data-run='" + runId + "']").getText()).contains("finished");
            b.find("tr.run[data-run='" + runId + "'] a").click();
            b.await(30, d -> b.find("#run").isDisplayed() && !b.all("#charts polyline").isEmpty());
            // the curves are the run's logged values: one point per logged step
            assertThat(points(b, "training loss")).isEqualTo(losses);
            assertThat(points(b, "validation loss")).isEqualTo(evals);
            assertThat(b.find("#finals").getText()).contains("eval_loss").contains("perplexity");
            b.screenshot("training");
            b.resize(390, 844);
            assertThat(b.fitsWidth()).as("the Training page at phone width").isTrue();
            b.resize(1280, 900);

            b.open(url + "/news");
            b.await(30, d -> !b.find("#store").getText().isBlank());
            assertThat(b.unlabelledControls()).isEmpty();
            String storeText = b.find("#store").getText();
            long articles = Files.readAllLines(shared.resolve("news.jsonl")).stream().filter(l -> !l.isBlank()).count();
            assertThat(storeText).contains("articles " + articles).contains("newest article 2025-");
            assertThat(b.find("#ingest-state").getText()).startsWith("No ingest job is running; the last one reported");
            assertThat(b.find("#ingest").getText()).contains("articles " + articles + " (" + articles + " new");
            b.fill("#q", "Nvidia AI chips");
            b.fill("#symbols", "NVDA");
            b.fill("#k", "3");
            b.find("#go").click();
            b.await(30, d -> !b.all("#hits .hit").isEmpty());
            assertThat(b.all("#hits .hit")).hasSizeBetween(1, 3).allSatisfy(hit -> assertThat(hit.getText()).contains("NVDA"));
            assertThat(b.find("#hits .hit a").getText()).containsIgnoringCase("nvidia");
            b.screenshot("news");
        }
    }

    private static long points(Browser b, String series) {
        String points = b.find("#charts polyline[data-name='" + series + "']").getDomAttribute("points");
        return points.isBlank() ? 0 : points.strip().split(" ").length;
    }

    @Test
    void theCommittedMiniModelFineTunedGivesEnglishAdviceAboutTheAssetAndBeatsItsBase(@TempDir Path dir) throws Exception {
        Path base = Path.of(System.getProperty("finadvisor.root.dir"), "models", "finadvisor-mini");
        assertThat(base.resolve("model.safetensors")).isRegularFile();
        Path adapter = fineTune(base, dir.resolve("runs"), 0);
        Path validation = adapter.getParent().resolve("validation.jsonl");
        MainTest.Result eval = MainTest.run("eval", "--model", base.toString(), "--adapter", adapter.toString(), "--data", validation.toString(),
                "--compare", "--max-new-tokens", "128", "--out", dir.resolve("eval").toString());
        assertThat(eval.code()).as(eval.err()).isZero();
        JsonNode report = JSON.readTree(dir.resolve("eval/report.json").toFile());
        JsonNode difference = report.get("difference");
        assertThat(difference.get("loss").asDouble()).as("adapter - base answer loss").isLessThan(-0.1);
        assertThat(difference.get("rouge_l").asDouble()).as("adapter - base ROUGE-L").isGreaterThan(0.05);
        Set<String> words = dictionary();
        for (JsonNode row : report.get("rows")) {
            String answer = row.get("adapter").get("answer").asText();
            assertThat(dictionaryShare(answer, words)).as(answer).isGreaterThanOrEqualTo(0.9);
            List<String> company = companyAsked(row.get("question").asText(), row.get("context").asText());
            if (!company.isEmpty()) assertThat(answer).as(row.get("question").asText()).containsAnyOf(company.toArray(String[]::new));
        }
        assertThat(report.get("rows").size()).isGreaterThanOrEqualTo(5);
        // served over HTTP with the news retrieved from the store, the quickstart's question
        JsonNode[] reply = new JsonNode[1];
        serve(base, adapter.toString(), null, dir.resolve("runs"), url -> reply[0] = ask(url, "Should I add Nvidia after the latest AI chip news?", 128));
        JsonNode served = reply[0];
        String text = served.get("answer").asText();
        assertThat(served.get("sources").get(0).get("headline").asText()).containsIgnoringCase("nvidia");
        assertThat(dictionaryShare(text, words)).as(text).isGreaterThanOrEqualTo(0.9);
        assertThat(text).as(text).containsAnyOf("Nvidia", "NVDA");
        assertThat(text.split("(?<=[.!?]) ")).as(text).hasSizeGreaterThanOrEqualTo(2);
    }

    /** The quickstart's fine-tune (configs/quickstart.yaml), here for at most {@code steps} steps. */
    private static Path fineTune(Path base, Path runs, int steps) throws IOException {
        Path config = Path.of(System.getProperty("finadvisor.root.dir"), "configs", "quickstart.yaml");
        List<String> args = new ArrayList<>(List.of("train", "--config", config.toString(), "--set", "model.id=" + base, "--set", "data.train=" + qa,
                "--set", "output_dir=" + runs));
        if (steps > 0) {
            args.addAll(List.of("--set", "training.max_steps=" + steps, "--set", "training.eval_steps=" + steps, "--set", "training.save_steps=" + steps));
        }
        MainTest.Result r = MainTest.run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        return onlyRun(runs).resolve("adapter");
    }

    private static Path onlyRun(Path runs) throws IOException {
        try (var s = Files.list(runs)) {
            List<Path> dirs = s.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith(".")).toList();
            assertThat(dirs).hasSize(1);
            return dirs.get(0);
        }
    }

    interface WithServer {
        void at(String url) throws Exception;
    }

    /** Serves base + adapter over the shared store (runs and registry for the pages), runs {@code with} against it, stops it. */
    private static void serve(Path base, String adapter, Path registry, Path runs, WithServer with) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<String> args = new ArrayList<>(List.of("serve", "--model", base.toString(), "--adapter", adapter, "--store", store.toString(),
                "--runs-dir", runs.toString(), "--port", Integer.toString(port), "--set", "retrieval.since=all",
                "--set", "prompt_log.path=" + shared.resolve("prompts.jsonl")));
        if (registry != null) args.addAll(List.of("--registry", registry.toString()));
        StringWriter err = new StringWriter();
        int[] code = {-1};
        Thread serving = new Thread(() -> code[0] = Main.run(new PrintWriter(new StringWriter()), new PrintWriter(err), args.toArray(String[]::new)));
        serving.start();
        try {
            String url = "http://127.0.0.1:" + port;
            ServeReady.await(HttpClient.newHttpClient(), url, serving, err);
            with.at(url);
        } finally {
            serving.interrupt();
            serving.join(30_000);
        }
    }

    /** Asks one question (greedy, at most {@code maxNewTokens}); the reply's JSON. */
    private static JsonNode ask(String url, String question, int maxNewTokens) throws Exception {
        String body = JSON.writeValueAsString(java.util.Map.of("about_me", "I am 35, moderate risk tolerance, saving for a house in five years.",
                "question", question, "options", java.util.Map.of("max_new_tokens", maxNewTokens, "k", 3, "temperature", 0)));
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url + "/v1/advice"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    /** A company or ticker the question names, as its ticker and its name, when the news names either; else empty. */
    static List<String> companyAsked(String question, String context) {
        for (String w : question.split("[^A-Za-z&'-]+")) {
            if (w.length() < 2 || !Character.isUpperCase(w.charAt(0)) || SENTENCE_WORDS.contains(w)) continue;
            String ticker = NewsWriter.NAMES.containsKey(w) ? w : NewsWriter.NAMES.entrySet().stream().filter(e -> e.getValue().equals(w))
                    .map(java.util.Map.Entry::getKey).findFirst().orElse(w);
            String name = NewsWriter.NAMES.getOrDefault(ticker, w);
            if (context.contains(ticker) || context.contains(name)) return List.of(ticker, name);
        }
        return List.of();
    }

    private static final Set<String> SENTENCE_WORDS = Set.of("Is", "Should", "What", "How", "Does", "Are", "Do", "Will", "Can", "AI", "EV");

    /** Share of an answer's words (letters and apostrophes; hyphenated parts apart) in the dictionary, case-insensitively. */
    static double dictionaryShare(String text, Set<String> dictionary) {
        int all = 0;
        int known = 0;
        for (String w : text.split("[^A-Za-z']+")) {
            String word = w.replaceAll("^'+|'+$", "");
            if (word.isEmpty()) continue;
            all++;
            if (dictionary.contains(word.toLowerCase(Locale.ROOT))) known++;
        }
        return all == 0 ? 0 : (double) known / all;
    }

    /** SCOWL's American English word list as Debian's wamerican ships it (licence: words/COPYRIGHT beside it). */
    static Set<String> dictionary() throws IOException {
        Set<String> words = new HashSet<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(
                AdvisorChainTest.class.getResourceAsStream("words/american-english.gz")), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) words.add(line.strip().toLowerCase(Locale.ROOT));
        }
        return words;
    }
}
