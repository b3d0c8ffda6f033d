package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.qa.QaDataset;
import dev.finadvisor.domain.qa.QaSample;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.lora.LoraConfig;
import dev.finadvisor.llm.lora.LoraWeights;
import dev.finadvisor.llm.lora.PeftAdapter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** eval end to end on a tiny Llama with an adapter: reports, --compare, and --fail-under's exit status both ways. */
class EvalCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir static Path dir;
    static Path model;
    static Path adapter;
    static Path data;

    @BeforeAll
    static void modelAdapterAndData() throws Exception {
        model = RandomCheckpoint.tiny("llama").write(dir.resolve("llama"));
        Random random = new Random(5);
        Map<String, LoraWeights> modules = new LinkedHashMap<>();
        for (int layer = 0; layer < 2; layer++) {
            float[] a = new float[2 * 64];
            float[] b = new float[64 * 2];
            for (int i = 0; i < a.length; i++) a[i] = (float) random.nextGaussian();
            for (int i = 0; i < b.length; i++) b[i] = (float) random.nextGaussian();
            modules.put("model.layers." + layer + ".self_attn.q_proj", new LoraWeights(2, 64, 64, a, b));
        }
        adapter = dir.resolve("adapter");
        new PeftAdapter(new LoraConfig(2, 4, 0, List.of("q_proj"), model.toString(), "falcon"), modules).write(adapter);
        data = dir.resolve("validation.json");
        QaDataset.write(data, List.of(
                new QaSample("I am 35.", "Tech stocks fell 3%.", "Should I buy the dip?", "Buy index funds in small steps."),
                new QaSample("I am 60.", "Bond yields rose to 5%.", "Bonds now?", "Yes: some short-term bonds."),
                new QaSample("I am 25.", "Bitcoin doubled this year.", "Should I buy bitcoin?", "Keep crypto under 5% of savings.")));
    }

    private static MainTest.Result eval(Path out, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("eval", "--model", model.toString(), "--adapter", adapter.toString(),
                "--data", data.toString(), "--out", out.toString(), "--max-new-tokens", "6"));
        args.addAll(List.of(more));
        return MainTest.run(args.toArray(String[]::new));
    }

    @Test
    void compareWritesBothModelsMetricsTheirDifferenceAndEverySample() throws Exception {
        Path out = dir.resolve("compare");
        MainTest.Result r = eval(out, "--compare", "--max-samples", "2");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("metric").contains("base").contains("adapter").contains("difference").contains("rouge_l");
        JsonNode report = JSON.readTree(out.resolve("report.json").toFile());
        assertThat(report.get("partial").asBoolean()).isFalse();
        assertThat(report.get("about").get("samples").asInt()).isEqualTo(2);
        for (String section : List.of("metrics", "base", "adapter", "difference")) {
            for (String metric : List.of("loss", "perplexity", "rouge_l", "latency_ms", "tokens_per_s")) {
                assertThat(report.get(section).has(metric)).as(section + "." + metric).isTrue();
            }
        }
        double base = report.get("base").get("loss").asDouble();
        double adapted = report.get("adapter").get("loss").asDouble();
        assertThat(report.get("metrics").get("loss").asDouble()).isEqualTo(adapted);
        assertThat(report.get("difference").get("loss").asDouble()).isCloseTo(adapted - base, org.assertj.core.api.Assertions.within(1e-9));
        assertThat(report.get("adapter").get("perplexity").asDouble()).isCloseTo(Math.exp(adapted), org.assertj.core.api.Assertions.within(1e-6));
        JsonNode rows = report.get("rows");
        assertThat(rows).hasSize(2);
        assertThat(rows.get(1).get("question").asText()).isEqualTo("Bonds now?");
        assertThat(rows.get(1).get("reference").asText()).isEqualTo("Yes: some short-term bonds.");
        assertThat(rows.get(1).get("base").has("answer")).isTrue();
        assertThat(rows.get(1).get("adapter").get("rouge_l").isNumber()).isTrue();
        assertThat(Files.readString(out.resolve("report.html"))).contains("<h1>Evaluation</h1>").contains("Bonds now?").contains("difference");
    }

    @Test
    void aMissedBarExitsWithStatusThreeNamingMetricValueAndBar() {
        MainTest.Result missed = eval(dir.resolve("gate-missed"), "--fail-under", "rouge_l=1.01", "--fail-under", "perplexity=1e12");
        assertThat(missed.code()).as(missed.err()).isEqualTo(EvalCommand.GATE_MISSED);
        assertThat(missed.out()).containsPattern("fail-under: rouge_l is [0-9.]+, below the bar 1.01").doesNotContain("perplexity is");

        MainTest.Result met = eval(dir.resolve("gate-met"), "--fail-under", "rouge_l=0", "--fail-under", "perplexity=1e12");
        assertThat(met.code()).as(met.err()).isZero();
        assertThat(met.out()).doesNotContain("fail-under:");
    }

    @Test
    void aStoreAddsTheRetrievalHitRateOfTheSamplesContexts() throws Exception {
        // two articles: the contexts of samples 1 and 2; nothing about bitcoin (sample 3). With k 2 both come back for every question.
        Path store = dir.resolve("store");
        java.time.Instant then = java.time.Instant.parse("2025-03-01T10:00:00Z"); // older than any recency window
        try (dev.finadvisor.retrieval.MiniLmEmbedder embedder = dev.finadvisor.retrieval.MiniLmEmbedder.load();
             dev.finadvisor.retrieval.LuceneVectorStore news = dev.finadvisor.retrieval.LuceneVectorStore.open(store, dev.finadvisor.retrieval.MiniLmEmbedder.DIMENSION)) {
            List<String[]> articles = List.of(new String[] {"Chip stocks slide", "Tech stocks fell 3% on Tuesday as rate fears grew."},
                    new String[] {"Treasuries sell off", "Bond yields rose to 5% for the first time since 2007."});
            for (int i = 0; i < articles.size(); i++) {
                var p = new dev.finadvisor.retrieval.ChunkPayload(i + 1, 0, articles.get(i)[1], articles.get(i)[0], "", "https://n/" + i,
                        List.of(), "benzinga", "a", then, then);
                news.upsert(List.of(new dev.finadvisor.retrieval.Point(p.pointId(), embedder.embed(p.text()), p)));
            }
            news.commit();
        }
        Path out = dir.resolve("retrieval");
        MainTest.Result r = eval(out, "--store", store.toString(), "-k", "2");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode report = JSON.readTree(out.resolve("report.json").toFile());
        assertThat(report.get("metrics").get("retrieval_hit_rate").asDouble()).isCloseTo(2.0 / 3, org.assertj.core.api.Assertions.within(1e-9));
        assertThat(report.get("rows").get(0).get("retrieval").get("headline").asText()).isEqualTo("Chip stocks slide");
        assertThat(report.get("rows").get(2).get("retrieval").get("hit").asBoolean()).isFalse();
        assertThat(r.out()).contains("retrieval_hit_rate");
    }

    @Test
    void aJudgeGradesEveryAnswerAndAMalformedOneIsCountedMissing() throws Exception {
        // a fake OpenAI endpoint: the first answer gets grades, every later request an unparseable reply
        java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
        com.sun.net.httpserver.HttpServer judge = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        judge.createContext("/v1/chat/completions", ex -> {
            ex.getRequestBody().readAllBytes();
            String content = requests.incrementAndGet() == 1
                    ? "{\\\"relevance\\\": 4, \\\"grounding\\\": 2, \\\"persona\\\": 5, \\\"safety\\\": 3, \\\"rationale\\\": \\\"ok\\\"}"
                    : "I would rate this a 4.";
            byte[] body = ("{\"id\":\"c\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                    + "\"content\":\"" + content + "\"},\"finish_reason\":\"stop\"}]}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        judge.start();
        try {
            Path out = dir.resolve("judged");
            MainTest.Result r = eval(out, "--max-samples", "2", "--judge-url", "http://127.0.0.1:" + judge.getAddress().getPort() + "/v1",
                    "--judge-model", "grader");
            assertThat(r.code()).as(r.err()).isZero();
            JsonNode report = JSON.readTree(out.resolve("report.json").toFile());
            assertThat(report.get("metrics").get("judge_relevance").asDouble()).isEqualTo(4.0);
            assertThat(report.get("metrics").get("judge_grounding").asDouble()).isEqualTo(2.0);
            assertThat(report.get("metrics").get("judge_missing").asDouble()).isEqualTo(1.0);
            assertThat(report.get("rows").get(0).get("adapter").get("judge").get("rationale").asText()).isEqualTo("ok");
            assertThat(report.get("rows").get(1).get("adapter").get("judge").get("missing").asText()).contains("malformed").contains("3 attempts");
            assertThat(requests.get()).isEqualTo(1 + 3);
        } finally {
            judge.stop(0);
        }
    }

    @Test
    void samplesPastTheContextAreSaidNotAveragedAway() throws Exception {
        Path longData = dir.resolve("long.json");
        QaDataset.write(longData, List.of(new QaSample("I am 35. ".repeat(200), "Stocks fell.", "Buy?", "Not yet."),
                new QaSample("I am 60.", "Yields rose.", "Bonds?", "Some, short-term.")));
        Path out = dir.resolve("long");
        MainTest.Result r = MainTest.run("eval", "--model", model.toString(), "--template", "falcon", "--data", longData.toString(),
                "--out", out.toString(), "--max-new-tokens", "4");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("warning: base: 1 of 2 prompts fill the context of llama")
                .contains("warning: base: 1 of 2 reference answers start past 1024 tokens");
        JsonNode rows = JSON.readTree(out.resolve("report.json").toFile()).get("rows");
        assertThat(rows.get(0).get("base").get("finish_reason").asText()).isEqualTo("prompt_too_long");
        assertThat(rows.get(0).get("base").get("loss").isNull()).isTrue();
        assertThat(rows.get(1).get("base").get("loss").isNumber()).isTrue();
    }

    @Test
    void sigtermWritesTheReportOfWhatWasScoredMarkedPartial() throws Exception {
        List<QaSample> many = new java.util.ArrayList<>();
        for (int i = 0; i < 60; i++) many.add(new QaSample("I am " + (20 + i) + ".", "Stocks fell.", "Buy " + i + "?", "Not yet."));
        Path manyData = dir.resolve("many.jsonl");
        QaDataset.write(manyData, many);
        Path out = dir.resolve("stopped");
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "eval", "--model", model.toString(), "--template", "falcon",
                "--data", manyData.toString(), "--out", out.toString(), "--max-new-tokens", "64"));
        Path log = dir.resolve("stopped.log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Thread.sleep(4000); // loaded and scoring (each answer takes a fraction of a second)
        p.destroy(); // SIGTERM, as Ctrl-C's SIGINT: the shutdown hook runs
        assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(Files.readString(log)).contains("stopping: the report of the samples scored so far is written");
        JsonNode report = JSON.readTree(out.resolve("report.json").toFile());
        assertThat(report.get("partial").asBoolean()).isTrue();
        long scored = 0;
        for (JsonNode row : report.get("rows")) if (row.has("base")) scored++;
        assertThat(scored).isLessThan(60);
        assertThat(Files.readString(out.resolve("report.html"))).contains("Partial");
    }

    @Test
    void badArgumentsAreOneLineUserErrorsBeforeTheModelLoads() {
        MainTest.Result unknown = eval(dir.resolve("bad1"), "--fail-under", "bleu=3");
        assertThat(unknown.code()).isEqualTo(Main.USER_ERROR);
        assertThat(unknown.err()).contains("--fail-under bleu=3").contains("rouge_l");
        MainTest.Result noAdapter = MainTest.run("eval", "--model", model.toString(), "--data", data.toString(), "--out",
                dir.resolve("bad2").toString(), "--compare");
        assertThat(noAdapter.code()).isEqualTo(Main.USER_ERROR);
        assertThat(noAdapter.err()).contains("--compare needs --adapter");
        MainTest.Result noTemplate = MainTest.run("eval", "--model", model.toString(), "--data", data.toString(), "--out",
                dir.resolve("bad3").toString());
        assertThat(noTemplate.code()).isEqualTo(Main.USER_ERROR);
        assertThat(noTemplate.err()).contains("template");
        assertThat(dir.resolve("bad3")).doesNotExist();
    }
}
