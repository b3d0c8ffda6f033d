package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.llm.LanguageModel;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.lora.LoraConfig;
import dev.finadvisor.llm.lora.LoraWeights;
import dev.finadvisor.llm.lora.PeftAdapter;
import dev.finadvisor.llm.safetensors.Dtype;
import dev.finadvisor.retrieval.ChunkPayload;
import dev.finadvisor.retrieval.LuceneVectorStore;
import dev.finadvisor.retrieval.MiniLmEmbedder;
import dev.finadvisor.retrieval.Point;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code finadvisor serve} end to end: a checkpoint, a PEFT adapter and a Lucene store on disk, a real server. */
class ServeCommandTest {
    @TempDir Path dir;

    @Test
    void serveLoadsModelAdapterAndStoreAndAnswersUntilInterrupted() throws Exception {
        Path checkpoint = new RandomCheckpoint("LlamaForCausalLM", 64, 96, 2, 4, 2, 384, 2048, false, Map.of(), Dtype.F32, 0.08, 11)
                .write(dir.resolve("tiny-llama"));
        try (LanguageModel m = LanguageModel.load(checkpoint)) {
            LoraConfig config = new LoraConfig(2, 4, 0, List.of("q_proj"), "tiny-llama", "falcon");
            Map<String, LoraWeights> modules = new LinkedHashMap<>();
            m.model().linears().forEach((path, l) -> {
                if (config.targets(path)) modules.put(path, new LoraWeights(2, l.inFeatures(), l.outFeatures(),
                        new float[2 * l.inFeatures()], new float[l.outFeatures() * 2]));
            });
            new PeftAdapter(config, modules).write(dir.resolve("advisor-v1"));
        }
        Instant now = Instant.now();
        try (MiniLmEmbedder embedder = MiniLmEmbedder.load();
             LuceneVectorStore store = LuceneVectorStore.open(dir.resolve("store"), MiniLmEmbedder.DIMENSION)) {
            ChunkPayload p = new ChunkPayload(7, 0, "Tesla delivered fewer cars than expected.", "Tesla deliveries miss", "", "https://n/7",
                    List.of("TSLA"), "benzinga", "a", now.minusSeconds(3600), now.minusSeconds(3600));
            store.upsert(List.of(new Point(p.pointId(), embedder.embed(p.text()), p)));
            store.commit();
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int[] code = {-1};
        // -v: debug logging everywhere, captured instead of printed; no line of it may hold a key a client sent
        var root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        var captured = new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
        captured.start();
        List<ch.qos.logback.core.Appender<ch.qos.logback.classic.spi.ILoggingEvent>> consoles = new java.util.ArrayList<>();
        root.iteratorForAppenders().forEachRemaining(consoles::add);
        consoles.forEach(root::detachAppender);
        root.addAppender(captured);
        String secret = "sk-proj-" + "Zq8x".repeat(8);
        Thread serving = new Thread(() -> code[0] = Main.run(new PrintWriter(out), new PrintWriter(err), "-v", "serve",
                "--model", checkpoint.toString(), "--adapter", dir.resolve("advisor-v1").toString(), "--store", dir.resolve("store").toString(),
                "--port", Integer.toString(port), "--set", "prompt_log.path=" + dir.resolve("prompts.jsonl"), "--set", "generation.max_new_tokens=16"));
        serving.start();
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + port;
        ServeReady.await(http, base, serving, err);
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/advice")).header("Authorization", "Bearer " + secret)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"about_me\": \"I am 40\", \"question\": \"Is Tesla a buy after the deliveries miss?\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode body = new ObjectMapper().readTree(r.body());
        assertThat(body.get("sources").get(0).get("headline").asText()).isEqualTo("Tesla deliveries miss");
        assertThat(body.get("usage").get("completion_tokens").asInt()).isBetween(0, 16);
        JsonNode models = new ObjectMapper().readTree(http.send(HttpRequest.newBuilder(URI.create(base + "/v1/models")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        assertThat(models.get("data").get(0).get("id").asText()).isEqualTo("tiny-llama+advisor-v1");
        assertThat(dir.resolve("prompts.jsonl")).isNotEmptyFile();
        serving.interrupt();
        serving.join(30_000);
        root.detachAppender(captured);
        consoles.forEach(root::addAppender);
        Main.configureLogging(false);
        assertThat(serving.isAlive()).isFalse();
        assertThat(code[0]).isZero();
        assertThat(captured.list).as("debug logging ran").hasSizeGreaterThan(10);
        for (var e : captured.list) {
            assertThat(e.getFormattedMessage() + (e.getThrowableProxy() == null ? "" : e.getThrowableProxy().getMessage()))
                    .as("%s from %s", e.getLevel(), e.getLoggerName()).doesNotContain(secret);
        }
        assertThat(out.toString()).contains("listening on http://127.0.0.1:" + port).contains("ready: tiny-llama+advisor-v1, template falcon");
    }

    @Test
    void aPortInUseIsAOneLineUserError() throws Exception {
        Path checkpoint = RandomCheckpoint.tiny("llama").write(dir.resolve("tiny-port"));
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            MainTest.Result r = MainTest.run("serve", "--model", checkpoint.toString(), "--port", Integer.toString(taken.getLocalPort()),
                    "--set", "generation.template=falcon");
            assertThat(r.code()).as(r.err()).isEqualTo(Main.USER_ERROR);
            assertThat(r.err().strip()).contains("port is in use").contains("--port").doesNotContain("\n");
        }
    }

    @Test
    void badArgumentsFailBeforeThePortOpensWithOneLine() throws Exception {
        MainTest.Result missing = MainTest.run("serve", "--model", dir.resolve("nope").toString());
        assertThat(missing.code()).isEqualTo(Main.USER_ERROR);
        assertThat(missing.err()).contains("--model").contains("no such folder");
        Path checkpoint = RandomCheckpoint.tiny("llama").write(dir.resolve("tiny"));
        MainTest.Result noTemplate = MainTest.run("serve", "--model", checkpoint.toString());
        assertThat(noTemplate.code()).isEqualTo(Main.USER_ERROR);
        assertThat(noTemplate.err()).contains("set generation.template");
        MainTest.Result registry = MainTest.run("serve", "--model", checkpoint.toString(), "--adapter", "registry:fin@production",
                "--registry", dir.resolve("registry").toString());
        assertThat(registry.code()).isEqualTo(Main.USER_ERROR);
        assertThat(registry.err()).contains("fin");
        MainTest.Result badKey = MainTest.run("serve", "--model", checkpoint.toString(), "--set", "limits.queue_capacty=3");
        assertThat(badKey.code()).isEqualTo(Main.USER_ERROR);
        assertThat(badKey.err()).contains("queue_capacity");
    }
}
