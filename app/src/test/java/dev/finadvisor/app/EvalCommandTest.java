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
