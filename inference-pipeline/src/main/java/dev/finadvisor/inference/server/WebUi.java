package dev.finadvisor.inference.server;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The web pages: static files from the classpath ({@code web/}), read once, served with a strict content security
 * policy (scripts and styles only from this server; no inline script can run, no other site can frame the page). The
 * pages read the same documented JSON routes a script would.
 */
final class WebUi {
    /** The page routes and the files behind them. */
    static final Map<String, String> PAGES = Map.of("/", "index.html", "/training", "training.html", "/news", "news.html");
    /** The files pages load, under {@code /web/}, with their content types. */
    private static final Map<String, String> ASSETS = Map.of(
            "common.css", "text/css; charset=utf-8",
            "common.js", "text/javascript; charset=utf-8",
            "advisor.js", "text/javascript; charset=utf-8",
            "training.js", "text/javascript; charset=utf-8",
            "news.js", "text/javascript; charset=utf-8");
    static final String CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    private final Map<String, byte[]> files = new LinkedHashMap<>();

    WebUi() {
        PAGES.values().forEach(name -> files.put(name, read(name)));
        ASSETS.keySet().forEach(name -> files.put(name, read(name)));
    }

    void register(RoutesConfig routes) {
        PAGES.forEach((path, name) -> routes.get(path, ctx -> send(ctx, name, "text/html; charset=utf-8")));
        routes.get("/web/{file}", ctx -> {
            String name = ctx.pathParam("file");
            String type = ASSETS.get(name);
            if (type == null) {
                throw new ApiException(404, "not_found", null, "no file /web/" + name + "; the pages are at " + PAGES.keySet());
            }
            send(ctx, name, type);
        });
    }

    private void send(Context ctx, String name, String type) {
        ctx.header("Content-Security-Policy", CSP);
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("Cache-Control", "no-cache");
        ctx.contentType(type).result(files.get(name));
    }

    private static byte[] read(String name) {
        try (InputStream in = WebUi.class.getResourceAsStream("web/" + name)) {
            if (in == null) throw new IllegalStateException("missing resource web/" + name);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
