package dev.finadvisor.llm.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.LanguageModel;
import dev.finadvisor.llm.RandomCheckpoint;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against a loopback fake of the hub's HTTP API: /api/models/{repo}/revision/{rev} and /{repo}/resolve/{commit}/{file}. */
class HubDownloaderTest {
    static final String REPO = "acme/tiny-llama";
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    @TempDir
    Path tmp;
    Path source;
    Path cache;
    HttpServer server;
    /** The CDN the hub redirects weight downloads to: another origin, as the real hub's is. */
    HttpServer cdn;
    final List<String> cdnAuthorizations = Collections.synchronizedList(new ArrayList<>());
    final List<String> requests = Collections.synchronizedList(new ArrayList<>());
    final Map<String, String> rangeHeaders = Collections.synchronizedMap(new HashMap<>());
    String requiredToken;
    UnaryOperator<byte[]> corrupt = b -> b;

    @BeforeEach
    void start() throws IOException {
        source = RandomCheckpoint.tiny("llama").write(tmp.resolve("source"));
        Files.write(source.resolve("pytorch_model.bin"), new byte[] {1, 2, 3}); // must never be fetched
        Files.copy(source.resolve("model.safetensors"), source.resolve("consolidated.safetensors")); // a duplicate copy, as Mistral's repos have
        cache = tmp.resolve("cache");
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
        cdn = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        cdn.createContext("/", ex -> {
            try (ex) {
                cdnAuthorizations.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
                serveFile(ex, ex.getRequestURI().getPath().substring("/cdn/".length()));
            }
        });
        cdn.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
        cdn.stop(0);
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        requests.add(path);
        try (ex) {
            if (requiredToken != null && !("Bearer " + requiredToken).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                ex.sendResponseHeaders(401, -1);
                return;
            }
            if (path.equals("/api/models/" + REPO + "/revision/main")) {
                List<Map<String, Object>> siblings = new ArrayList<>();
                try (var files = Files.list(source)) {
                    for (Path f : files.sorted().toList()) {
                        Map<String, Object> s = new LinkedHashMap<>();
                        s.put("rfilename", f.getFileName().toString());
                        s.put("size", Files.size(f));
                        if (f.toString().endsWith(".safetensors")) {
                            s.put("lfs", Map.of("sha256", HubDownloader.sha256(f), "size", Files.size(f)));
                        }
                        siblings.add(s);
                    }
                }
                send(ex, 200, new ObjectMapper().writeValueAsBytes(Map.of("id", REPO, "sha", COMMIT, "siblings", siblings)));
            } else if (path.startsWith("/" + REPO + "/resolve/" + COMMIT + "/")) {
                String name = path.substring(path.lastIndexOf('/') + 1);
                if (name.endsWith(".safetensors")) { // LFS files redirect to a CDN on another host, as the real hub does
                    ex.getResponseHeaders().add("Location", "http://127.0.0.1:" + cdn.getAddress().getPort() + "/cdn/" + name);
                    ex.sendResponseHeaders(302, -1);
                    return;
                }
                serveFile(ex, name);
            } else {
                send(ex, 404, "{\"error\":\"Repository not found\"}".getBytes());
            }
        }
    }

    private void serveFile(HttpExchange ex, String name) throws IOException {
        byte[] all = corrupt.apply(Files.readAllBytes(source.resolve(name)));
        String range = ex.getRequestHeaders().getFirst("Range");
        if (range != null) {
            rangeHeaders.put(name, range);
            int from = Integer.parseInt(range.replace("bytes=", "").replace("-", ""));
            ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (all.length - 1) + "/" + all.length);
            send(ex, 206, java.util.Arrays.copyOfRange(all, from, all.length));
        } else {
            send(ex, 200, all);
        }
    }

    private static void send(HttpExchange ex, int code, byte[] body) throws IOException {
        ex.sendResponseHeaders(code, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    private ModelLocator locator(Map<String, String> extraEnv) {
        Map<String, String> env = new HashMap<>(extraEnv);
        env.put("HF_ENDPOINT", "http://127.0.0.1:" + server.getAddress().getPort());
        env.put("FINADVISOR_MODEL_CACHE", cache.toString());
        return ModelLocator.fromEnvironment(env);
    }

    @Test
    void aHubIdDownloadsOnceAndLoads() throws Exception {
        Path dir = locator(Map.of()).resolve(REPO);
        assertThat(dir).endsWith(Path.of("snapshots", COMMIT));
        assertThat(Files.readAllBytes(dir.resolve("model.safetensors"))).isEqualTo(Files.readAllBytes(source.resolve("model.safetensors")));
        assertThat(dir.resolve("pytorch_model.bin")).doesNotExist();
        assertThat(requests).noneMatch(r -> r.endsWith(".bin")).noneMatch(r -> r.contains("consolidated"));
        try (LanguageModel lm = LanguageModel.load(dir)) {
            assertThat(lm.config().numLayers()).isEqualTo(2);
        }
        int before = requests.size();
        assertThat(locator(Map.of()).resolve(REPO)).isEqualTo(dir);
        assertThat(requests.size() - before).as("a cached snapshot only asks for the revision").isEqualTo(1);
    }

    @Test
    void anInterruptedDownloadResumesWithARangeRequest() throws Exception {
        byte[] weights = Files.readAllBytes(source.resolve("model.safetensors"));
        Path snapshot = cache.resolve("models--acme--tiny-llama").resolve("snapshots").resolve(COMMIT);
        Files.createDirectories(snapshot);
        Files.write(snapshot.resolve("model.safetensors.incomplete"), java.util.Arrays.copyOf(weights, weights.length / 2));
        Path dir = locator(Map.of()).resolve(REPO);
        assertThat(rangeHeaders).containsEntry("model.safetensors", "bytes=" + weights.length / 2 + "-");
        assertThat(Files.readAllBytes(dir.resolve("model.safetensors"))).isEqualTo(weights);
        assertThat(dir.resolve("model.safetensors.incomplete")).doesNotExist();
    }

    @Test
    void aCorruptDownloadIsDeletedAndNamed() {
        corrupt = b -> {
            byte[] c = b.clone();
            c[c.length - 1] ^= 1;
            return c;
        };
        assertThatThrownBy(() -> locator(Map.of()).resolve(REPO)).isInstanceOf(UserError.class)
                .hasMessageContaining("model.safetensors").hasMessageContaining("sha256").hasMessageContaining("run again");
        Path snapshot = cache.resolve("models--acme--tiny-llama").resolve("snapshots").resolve(COMMIT);
        assertThat(snapshot.resolve("model.safetensors")).doesNotExist();
        assertThat(snapshot.resolve("model.safetensors.incomplete")).doesNotExist();
    }

    @Test
    void offlineModeUsesOnlyTheCache() {
        assertThatThrownBy(() -> locator(Map.of("HF_HUB_OFFLINE", "1")).resolve(REPO)).isInstanceOf(UserError.class)
                .hasMessageContaining("not in the model cache").hasMessageContaining("HF_HUB_OFFLINE");
        assertThat(requests).isEmpty();
        Path online = locator(Map.of()).resolve(REPO);
        server.stop(0);
        assertThat(locator(Map.of("HF_HUB_OFFLINE", "1")).resolve(REPO)).isEqualTo(online);
    }

    @Test
    void gatedModelsNeedHfToken() {
        requiredToken = "hf_secret";
        assertThatThrownBy(() -> locator(Map.of()).resolve(REPO)).isInstanceOf(UserError.class)
                .hasMessageContaining("HTTP 401").hasMessageContaining("HF_TOKEN").hasMessageNotContaining("hf_secret");
        assertThat(locator(Map.of("HF_TOKEN", "hf_secret")).resolve(REPO).resolve("config.json")).exists();
        // the token went to the hub, never to the CDN its redirects named
        assertThat(cdnAuthorizations).isNotEmpty().containsOnly("null");
    }

    @Test
    void unknownReposAndNonIdsAreClearErrors() {
        assertThatThrownBy(() -> locator(Map.of()).resolve("acme/nothing@v2")).isInstanceOf(UserError.class)
                .hasMessageContaining("acme/nothing@v2").hasMessageContaining("not found");
        assertThatThrownBy(() -> locator(Map.of()).resolve("/no/such/folder")).hasMessageContaining("no such folder");
    }
}
