package dev.finadvisor.inference;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * A stand-in for the model in HTTP-layer tests that need exact control of timing (queue, cancellation):
 * it "generates" a fixed answer word by word, {@code delayMs} per word, and honours cancellation.
 * Endpoint behaviour with the real model is tested with llm's tiny checkpoint.
 */
public final class ScriptedGenerator implements TextGenerator {
    public static final String ANSWER = "Keep an emergency fund of six months , then invest monthly in a broad low-cost index fund .";
    private final long delayMs;
    public final AtomicInteger started = new AtomicInteger();
    public final AtomicReference<Generation> last = new AtomicReference<>();
    public final AtomicReference<String> lastPrompt = new AtomicReference<>();

    public ScriptedGenerator(long delayMs) {
        this.delayMs = delayMs;
    }

    @Override
    public String modelId() {
        return "scripted";
    }

    @Override
    public int countTokens(String text) {
        String t = text.strip();
        return t.isEmpty() ? 0 : t.split("\\s+").length;
    }

    @Override
    public int maxSequenceLength() {
        return 4096;
    }

    @Override
    public Generation generate(String prompt, Sampling sampling, TokenSink sink, BooleanSupplier cancelled) {
        started.incrementAndGet();
        lastPrompt.set(prompt);
        String[] words = ANSWER.split(" ");
        StringBuilder text = new StringBuilder();
        int n = 0;
        String finish = "eos";
        long t0 = System.nanoTime();
        for (String w : words) {
            if (cancelled.getAsBoolean()) {
                finish = "cancelled";
                break;
            }
            if (n == sampling.maxNewTokens()) {
                finish = "length";
                break;
            }
            if (delayMs > 0) {
                try {
                    Thread.sleep(delayMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    finish = "cancelled";
                    break;
                }
            }
            String delta = n == 0 ? w : " " + w;
            text.append(delta);
            sink.onDelta(delta);
            n++;
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        Generation g = new Generation(text.toString(), countTokens(prompt), n, finish, 0, ms, 0);
        last.set(g);
        return g;
    }
}
