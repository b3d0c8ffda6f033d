package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** Waiting for a {@code serve} started on a thread of the test's JVM. */
final class ServeReady {
    private ServeReady() {}

    /** Returns once {@code base}/ready answers 200; fails when {@code serving} ends first (with its stderr) or after 120 s. */
    static void await(HttpClient http, String base, Thread serving, StringWriter err) throws InterruptedException {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (true) {
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(base + "/ready")).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200) return;
            } catch (IOException e) {
                // not listening yet
            }
            assertThat(serving.isAlive()).as(err.toString()).isTrue();
            assertThat(System.nanoTime()).as("ready within 120 s").isLessThan(deadline);
            Thread.sleep(100);
        }
    }
}
