package dev.finadvisor.llm.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.config.Secret;
import dev.finadvisor.domain.util.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Downloads the files a checkpoint needs (configs, tokenizer, safetensors weights; never pickle)
 * from a Hugging Face hub over its HTTP API into a cache, once:
 * {@code CACHE/models--ORG--NAME/snapshots/COMMIT/} with {@code refs/REVISION} naming the commit.
 * Interrupted downloads resume from their {@code .incomplete} file with a Range request; every file's
 * size, and the sha256 of large (LFS) files, are checked before it is moved into place.
 */
public final class HubDownloader {
    private static final Logger log = LoggerFactory.getLogger(HubDownloader.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Files a checkpoint folder may use besides its safetensors weights. */
    static final Set<String> SIDE_FILES = Set.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "model.safetensors.index.json");
    static final String COMPLETE = ".finadvisor-complete";
    private static final int MAX_REDIRECTS = 10;

    private final URI endpoint;
    private final Path cache;
    private final Optional<Secret> token;
    private final boolean offline;
    private final HttpClient http;

    public HubDownloader(URI endpoint, Path cache, Optional<Secret> token, boolean offline) {
        this.endpoint = endpoint;
        this.cache = cache;
        this.token = token;
        this.offline = offline;
        // redirects are followed here, not by the client: the hub sends weight downloads to its CDN, another host,
        // which must not get HF_TOKEN
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(30)).build();
    }

    private record RemoteFile(String name, long size, String sha256) {}

    /** The cached snapshot folder of {@code repo} at {@code revision}, downloading what is missing. */
    public Path snapshot(String repo, String revision) {
        Path repoDir = cache.resolve("models--" + repo.replace("/", "--"));
        Path ref = repoDir.resolve("refs").resolve(revision.replace("/", "%2F"));
        if (offline) return cachedSnapshot(repo, revision, repoDir, ref);
        JsonNode info = getJson(repo, revision);
        String commit = info.path("sha").asText(revision);
        List<RemoteFile> files = select(repo, info);
        Path snapshot = repoDir.resolve("snapshots").resolve(commit);
        try {
            Files.createDirectories(snapshot);
            if (!Files.exists(snapshot.resolve(COMPLETE))) {
                long total = files.stream().mapToLong(f -> Math.max(0, f.size())).sum();
                try (Progress progress = Progress.start("download " + repo, total, "B")) {
                    // side files first: the index says which .safetensors files are the weights
                    for (RemoteFile f : files) if (!f.name().endsWith(".safetensors")) download(repo, commit, f, snapshot, progress);
                    Set<String> weights = weightFiles(repo, snapshot, files);
                    for (RemoteFile f : files) if (weights.contains(f.name())) download(repo, commit, f, snapshot, progress);
                }
                Files.writeString(snapshot.resolve(COMPLETE), commit);
            }
            Files.createDirectories(ref.getParent());
            Files.writeString(ref, commit);
        } catch (IOException e) {
            throw new UserError("cannot write the model cache " + cache + ": " + e.getMessage(), e);
        }
        return snapshot;
    }

    private Path cachedSnapshot(String repo, String revision, Path repoDir, Path ref) {
        String commit = revision;
        if (Files.isRegularFile(ref)) {
            try {
                commit = Files.readString(ref).strip();
            } catch (IOException e) {
                throw new UserError(ref + ": unreadable: " + e.getMessage(), e);
            }
        }
        Path snapshot = repoDir.resolve("snapshots").resolve(commit);
        if (!Files.exists(snapshot.resolve(COMPLETE))) {
            throw new UserError(repo + "@" + revision + " is not in the model cache " + cache
                    + " and HF_HUB_OFFLINE=1 forbids downloading it; run once without HF_HUB_OFFLINE or give a local folder");
        }
        return snapshot;
    }

    private JsonNode getJson(String repo, String revision) {
        URI uri = endpoint.resolve("/api/models/" + repo + "/revision/" + URLEncoder.encode(revision, StandardCharsets.UTF_8) + "?blobs=true");
        HttpResponse<byte[]> r = send(uri, null, HttpResponse.BodyHandlers.ofByteArray(), repo, revision);
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UserError(uri + ": the hub answered with invalid JSON: " + e.getMessage(), e);
        }
    }

    /** Side files plus safetensors weights; a repo with only pickle weights is refused. */
    private static List<RemoteFile> select(String repo, JsonNode info) {
        List<RemoteFile> out = new ArrayList<>();
        List<String> pickles = new ArrayList<>();
        boolean safetensors = false;
        for (JsonNode s : info.path("siblings")) {
            String name = s.path("rfilename").asText();
            if (name.contains("/")) continue; // sub-folders hold other formats (onnx/, original/ ...)
            long size = s.has("size") ? s.get("size").asLong() : s.path("lfs").path("size").asLong(-1);
            String sha = s.path("lfs").path("sha256").asText(null);
            if (name.endsWith(".safetensors")) {
                safetensors = true;
                out.add(new RemoteFile(name, size, sha));
            } else if (SIDE_FILES.contains(name)) {
                out.add(new RemoteFile(name, size, sha));
            } else if (name.endsWith(".bin") || name.endsWith(".pt") || name.endsWith(".pth")) {
                pickles.add(name);
            }
        }
        if (!safetensors) {
            throw new UserError(repo + " has no safetensors weights" + (pickles.isEmpty() ? "" : " (only pickle: " + pickles + ")")
                    + "; pickle is refused because loading it can run arbitrary code: pick a repo or revision with .safetensors files");
        }
        if (out.stream().noneMatch(f -> f.name().equals("config.json"))) throw new UserError(repo + " has no config.json: not a transformers checkpoint");
        return out;
    }

    /**
     * The shards model.safetensors.index.json names, else model.safetensors, else every .safetensors
     * file: repos such as Mistral's also hold a consolidated copy of the weights that must not be fetched.
     */
    private static Set<String> weightFiles(String repo, Path snapshot, List<RemoteFile> files) throws IOException {
        Path index = snapshot.resolve("model.safetensors.index.json");
        Set<String> names = new java.util.TreeSet<>();
        if (Files.isRegularFile(index)) {
            JsonNode map = JSON.readTree(index.toFile()).path("weight_map");
            map.forEach(v -> names.add(v.asText()));
            for (String n : names) {
                if (files.stream().noneMatch(f -> f.name().equals(n))) {
                    throw new UserError(repo + ": model.safetensors.index.json names shard '" + n + "', which the repository does not have");
                }
            }
            return names;
        }
        for (RemoteFile f : files) if (f.name().equals("model.safetensors")) return Set.of(f.name());
        for (RemoteFile f : files) if (f.name().endsWith(".safetensors")) names.add(f.name());
        return names;
    }

    private void download(String repo, String commit, RemoteFile f, Path snapshot, Progress progress) throws IOException {
        Path target = snapshot.resolve(f.name());
        if (Files.isRegularFile(target)) {
            progress.advance(Math.max(0, f.size()), f.name() + " (cached)");
            return;
        }
        Path partial = snapshot.resolve(f.name() + ".incomplete");
        long have = Files.isRegularFile(partial) ? Files.size(partial) : 0;
        if (f.size() >= 0 && have > f.size()) {
            Files.delete(partial);
            have = 0;
        }
        URI uri = endpoint.resolve("/" + repo + "/resolve/" + commit + "/" + f.name());
        HttpResponse<InputStream> r = send(uri, have > 0 ? "bytes=" + have + "-" : null, HttpResponse.BodyHandlers.ofInputStream(), repo, commit);
        boolean append = have > 0 && r.statusCode() == 206;
        if (have > 0 && !append) log.info("{}: server ignored the range request; downloading {} again from the start", repo, f.name());
        if (append) {
            log.info("{}: resuming {} at {} bytes", repo, f.name(), have);
            progress.advance(have, f.name());
        }
        try (InputStream in = r.body();
             OutputStream out = Files.newOutputStream(partial, StandardOpenOption.CREATE,
                     append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                progress.advance(n, f.name());
            }
        }
        verify(repo, f, partial);
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void verify(String repo, RemoteFile f, Path partial) throws IOException {
        long size = Files.size(partial);
        if (f.size() >= 0 && size != f.size()) {
            if (size > f.size()) Files.delete(partial);
            throw new UserError(repo + "/" + f.name() + ": downloaded " + size + " bytes but the hub lists " + f.size()
                    + (size < f.size() ? "; the download was cut short: run again to resume" : "; the partial file was deleted: run again"));
        }
        if (f.sha256() != null) {
            String actual = sha256(partial);
            if (!actual.equalsIgnoreCase(f.sha256())) {
                Files.delete(partial);
                throw new UserError(repo + "/" + f.name() + ": sha256 " + actual + " does not match the hub's " + f.sha256()
                        + "; the corrupt download was deleted: run again");
            }
        }
    }

    /**
     * GET {@code uri} (with {@code range}, if not null), following up to {@value #MAX_REDIRECTS} redirects; HF_TOKEN goes
     * only to the hub's own origin (scheme, host and port of the endpoint), never to a host a redirect names.
     */
    private <T> HttpResponse<T> send(URI uri, String range, HttpResponse.BodyHandler<T> body, String repo, String revision) {
        HttpResponse<T> r;
        for (int hops = 0; ; hops++) {
            HttpRequest.Builder req = HttpRequest.newBuilder(uri).GET().header("User-Agent", "finadvisor");
            if (range != null) req.header("Range", range);
            if (sameOrigin(uri, endpoint)) token.ifPresent(t -> req.header("Authorization", "Bearer " + t.reveal()));
            try {
                r = http.send(req.build(), body);
            } catch (IOException e) {
                throw new UserError("cannot reach the hub at " + uri.getHost() + " for " + repo + ": " + e.getMessage()
                        + " (set HF_HUB_OFFLINE=1 to use the cache only)", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UserError("interrupted while downloading " + repo, e);
            }
            int code = r.statusCode();
            if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308) break;
            closeQuietly(r);
            String location = r.headers().firstValue("Location").orElse(null);
            if (location == null) throw new UserError(repo + "@" + revision + ": the hub answered HTTP " + code + " without a Location for " + uri);
            if (hops == MAX_REDIRECTS) throw new UserError(repo + "@" + revision + ": more than " + MAX_REDIRECTS + " redirects from " + uri);
            uri = uri.resolve(location);
        }
        int code = r.statusCode();
        if (code == 200 || code == 206) return r;
        closeQuietly(r);
        String what = repo + "@" + revision;
        throw switch (code) {
            case 401, 403 -> new UserError(what + ": the hub refused access (HTTP " + code + "); the model may be gated or private: "
                    + (token.isPresent() ? "check that HF_TOKEN has access to it" : "accept its licence on the hub and export HF_TOKEN"));
            case 404 -> new UserError(what + ": not found on the hub (HTTP 404); check the repository id and revision");
            default -> new UserError(what + ": the hub answered HTTP " + code + " for " + r.uri());
        };
    }

    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost().equalsIgnoreCase(b.getHost()) && port(a) == port(b);
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    private static void closeQuietly(HttpResponse<?> r) {
        if (r.body() instanceof InputStream in) {
            try {
                in.close();
            } catch (IOException ignored) {
                // the status code is the error we report
            }
        }
    }

    static String sha256(Path p) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = Files.newInputStream(p)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
