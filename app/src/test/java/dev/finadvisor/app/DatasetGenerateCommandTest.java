package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.finadvisor.domain.qa.QaDataset;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** dataset generate end to end against a local fake of OpenAI's chat completions endpoint (its wire format). */
class DatasetGenerateCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir Path dir;
    HttpServer server;
    final AtomicInteger requests = new AtomicInteger();
    volatile int status = 200;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/chat/completions", ex -> {
            JsonNode request = JSON.readTree(ex.getRequestBody().readAllBytes());
            int k = requests.incrementAndGet();
            String prompt = request.at("/messages/1/content").asText();
            String news = prompt.substring(prompt.indexOf("):\n") + 3);
            String word = Arrays.stream(news.split("[^A-Za-z0-9]+")).filter(w -> w.length() >= 6).findFirst().orElse("earnings");
            String content = JSON.createObjectNode().put("question", "What does the " + word + " news mean for me (" + k + ")?")
                    .put("response", "After the " + word + " news, add " + k + "% to broad index funds over three months and keep your emergency fund.")
                    .toString();
            byte[] body = (status != 200 ? "{\"error\":{\"message\":\"Incorrect API key provided\",\"type\":\"invalid_request_error\"}}"
                    : "{\"id\":\"c" + k + "\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
                    + JSON.getNodeFactory().textNode(content) + "},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":200,\"completion_tokens\":50}}")
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private MainTest.Result generate(Path out, String... more) {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("dataset", "generate", "--teacher-url",
                "http://127.0.0.1:" + server.getAddress().getPort() + "/v1", "--teacher-model", "teacher-1", "--out", out.toString(),
                "--concurrency", "2"));
        args.addAll(java.util.List.of(more));
        return MainTest.run(args.toArray(String[]::new));
    }

    @Test
    void writesNSamplesAndReportsTokensAndCost() {
        Path out = dir.resolve("teacher.jsonl");
        MainTest.Result r = generate(out, "--n", "4", "--price-input", "0.15", "--price-output", "0.60");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(QaDataset.load(out, QaDataset.Options.TRAINING)).hasSize(4);
        long calls = requests.get();
        assertThat(r.out()).contains("4 of 4 samples (4 written now)").contains(String.format("tokens: %,d prompt + %,d completion", 200 * calls, 50 * calls))
                .contains(String.format(java.util.Locale.ROOT, "about $%.4f", (200 * calls * 0.15 + 50 * calls * 0.60) / 1e6));

        MainTest.Result more = generate(out, "--n", "6", "--resume", "--no-dedup");
        assertThat(more.code()).as(more.err()).isZero();
        assertThat(more.out()).contains("resume: 4 samples").contains("6 of 6 samples (2 written now)");
        assertThat(QaDataset.load(out)).hasSize(6);
    }

    @Test
    void newsFromAStoreAreItsNewestArticles() throws Exception {
        Path store = dir.resolve("store");
        java.time.Instant t = java.time.Instant.parse("2025-06-01T09:00:00Z");
        try (var index = dev.finadvisor.retrieval.LuceneVectorStore.open(store, dev.finadvisor.retrieval.MiniLmEmbedder.DIMENSION)) {
            String[][] articles = {{"Nvidia beats estimates as datacenter demand soars", "NVDA"}, {"Treasury yields climb after inflation surprise", "TLT"},
                    {"Bitcoin rallies toward record highs", "BTCUSD"}};
            for (int i = 0; i < articles.length; i++) {
                float[] v = new float[dev.finadvisor.retrieval.MiniLmEmbedder.DIMENSION];
                v[i] = 1;
                var p = new dev.finadvisor.retrieval.ChunkPayload(100 + i, 0, articles[i][0], articles[i][0], "", "https://n/" + i,
                        java.util.List.of(articles[i][1]), "benzinga", "a", t.plusSeconds(3600L * i), t.plusSeconds(3600L * i));
                index.upsert(java.util.List.of(new dev.finadvisor.retrieval.Point(p.pointId(), v, p)));
            }
            index.commit();
        }
        Path out = dir.resolve("from-store.jsonl");
        MainTest.Result r = generate(out, "--n", "6", "--news-store", store.toString(), "--news-limit", "2", "--no-dedup");
        assertThat(r.code()).as(r.err()).isZero();
        java.util.Set<Object> ids = new java.util.TreeSet<>();
        for (var sample : QaDataset.load(out)) ids.add(((Number) sample.extra().get("news_id")).longValue());
        assertThat(ids).as("the two newest of three articles").isSubsetOf(102L, 101L).isNotEmpty();
        MainTest.Result both = generate(dir.resolve("x.jsonl"), "--n", "1", "--news-store", store.toString(), "--news", out.toString());
        assertThat(both.code()).isEqualTo(Main.USER_ERROR);
        assertThat(both.err()).contains("give one");
    }

    @Test
    void aRefusedKeyIsOneLineNamingTheStatusAndWhatToDo() {
        status = 401;
        Path out = dir.resolve("refused.jsonl");
        MainTest.Result r = generate(out, "--n", "3", "--no-dedup");
        assertThat(r.code()).isEqualTo(Main.USER_ERROR);
        assertThat(r.err().strip()).doesNotContain("\n").contains("HTTP 401").contains("Incorrect API key").contains("--resume");
        MainTest.Result exists = generate(dir.resolve("teacher-none.jsonl"), "--n", "0");
        assertThat(exists.code()).isEqualTo(Main.USER_ERROR);
        assertThat(exists.err()).contains("--n is 0");
    }
}
