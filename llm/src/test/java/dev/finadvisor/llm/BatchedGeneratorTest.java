package dev.finadvisor.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finadvisor.domain.UserError;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchedGeneratorTest {
    private static final long UNLIMITED = 1L << 40;
    @TempDir
    static Path dir;
    static LanguageModel lm;
    static List<int[]> prompts = new ArrayList<>();

    @BeforeAll
    static void load() throws Exception {
        lm = LanguageModel.load(RandomCheckpoint.tiny("llama").write(dir.resolve("llama")));
        for (String text : List.of("The stock market", "Bonds pay", "I am 35 and saving for a house; what should I buy this year?",
                "Index funds", "Tesla shares fell after the earnings call, and analysts", "Cash")) {
            prompts.add(lm.tokenizer().encode(text, true));
        }
    }

    @AfterAll
    static void close() {
        lm.close();
    }

    /** Request i: greedy, or sampled with its own seed; lengths differ so sequences leave the batch at different steps. */
    private static GenerationConfig config(int i, boolean sampled) {
        int tokens = 10 + 3 * i;
        return sampled ? new GenerationConfig(tokens, 0.9, 40, 0.95, 1.1, 1000 + i, List.of()) : GenerationConfig.greedy(tokens);
    }

    /** Every prompt from its own thread at once through {@code batcher}; results in prompt order. */
    private static List<GenerationResult> together(BatchedGenerator batcher, boolean sampled, List<List<String>> deltas) throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(prompts.size());
        try {
            List<Future<GenerationResult>> futures = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                int n = i;
                List<String> mine = Collections.synchronizedList(new ArrayList<>());
                deltas.add(mine);
                futures.add(clients.submit(() -> batcher.generate(prompts.get(n), config(n, sampled), (id, d) -> mine.add(d), () -> false)));
            }
            List<GenerationResult> out = new ArrayList<>();
            for (Future<GenerationResult> f : futures) out.add(f.get());
            return out;
        } finally {
            clients.shutdownNow();
        }
    }

    /** The largest batch a decode step took. */
    private static int largest(BatchedGenerator batcher) {
        long[] steps = batcher.stepsBySize();
        for (int n = steps.length - 1; n > 0; n--) if (steps[n] > 0) return n;
        return 0;
    }

    @Test
    void greedyAndSeededSampledOutputInABatchEqualsEachRequestAlone() throws Exception {
        for (boolean sampled : new boolean[] {false, true}) {
            List<List<String>> deltas = new ArrayList<>();
            List<GenerationResult> batched;
            try (BatchedGenerator batcher = new BatchedGenerator(lm, new BatchedGenerator.Limits(16, UNLIMITED, 0))) {
                batched = together(batcher, sampled, deltas);
                assertThat(largest(batcher)).as("sequences decoded together").isGreaterThan(2);
            }
            for (int i = 0; i < prompts.size(); i++) {
                GenerationResult alone = lm.generate(prompts.get(i), config(i, sampled), TokenListener.NONE, () -> false);
                GenerationResult r = batched.get(i);
                assertThat(r.generatedIds()).as("request %d (sampled: %s)", i, sampled).containsExactly(alone.generatedIds());
                assertThat(r.text()).isEqualTo(alone.text()).isEqualTo(String.join("", deltas.get(i)));
                assertThat(r.finishReason()).isEqualTo(alone.finishReason());
            }
        }
    }

    @Test
    void theModelThreadRunsWithTheEnginesGradientRecordingOff() throws Exception {
        // libtorch's grad mode is per thread and on in a new one: left on, every pass kept all its layers' intermediates
        // (a 256-token chunk of a Falcon-7B prompt: 3.7 GB) and multiplied packed weights through fp32 copies
        List<Boolean> recording = Collections.synchronizedList(new ArrayList<>());
        try (BatchedGenerator batcher = new BatchedGenerator(lm, new BatchedGenerator.Limits(4, UNLIMITED, 2))) {
            batcher.generate(prompts.get(2), GenerationConfig.greedy(3), (id, d) -> recording.add(ai.djl.pytorch.jni.JniUtils.isGradMode()), () -> false);
        }
        assertThat(recording).isNotEmpty().containsOnly(false);
    }

    @Test
    void chunkedPromptsGiveTheSameTokensInABatchOfSixAsOneAtATime() throws Exception {
        List<GenerationResult> one;
        List<GenerationResult> six;
        try (BatchedGenerator batcher = new BatchedGenerator(lm, new BatchedGenerator.Limits(1, UNLIMITED, 3))) {
            one = together(batcher, true, new ArrayList<>());
            assertThat(largest(batcher)).as("max_batch 1 decodes one sequence at a time").isEqualTo(1);
        }
        try (BatchedGenerator batcher = new BatchedGenerator(lm, new BatchedGenerator.Limits(6, UNLIMITED, 3))) {
            six = together(batcher, true, new ArrayList<>());
            assertThat(largest(batcher)).isGreaterThan(2);
        }
        for (int i = 0; i < prompts.size(); i++) assertThat(six.get(i).generatedIds()).containsExactly(one.get(i).generatedIds());
    }

    @Test
    void theCacheBudgetBoundsTheBatchAndRefusesASequenceItCannotHold() throws Exception {
        int longest = prompts.stream().mapToInt(p -> p.length).max().orElseThrow() + config(prompts.size() - 1, false).maxNewTokens();
        long budget = 2 * lm.kvCacheBytes(longest);
        try (BatchedGenerator batcher = new BatchedGenerator(lm, new BatchedGenerator.Limits(16, budget, 0))) {
            List<GenerationResult> results = together(batcher, false, new ArrayList<>());
            for (int i = 0; i < prompts.size(); i++) assertThat(results.get(i).generatedIds()).hasSize(config(i, false).maxNewTokens());
            assertThat(batcher.kvCacheBytesPeak()).as("caches held at once").isPositive().isLessThanOrEqualTo(budget);
            assertThat(largest(batcher)).as("not all six fit at once").isBetween(2, prompts.size() - 1);
            assertThat(batcher.kvCacheBytesInUse()).isZero();
            assertThat(batcher.maxPositions()).isLessThan(lm.config().maxPositions());
            int tooMany = batcher.maxPositions() - prompts.get(0).length + 1;
            assertThatThrownBy(() -> batcher.generate(prompts.get(0), GenerationConfig.greedy(tooMany), TokenListener.NONE, () -> false))
                    .isInstanceOf(UserError.class).hasMessageContaining("MiB of KV cache")
                    .hasMessageContaining("lower max_new_tokens to at most " + (tooMany - 1));
        }
    }

    @Test
    void aCancelledRequestOrAFailingListenerLeavesTheOthersUntouched() throws Exception {
        try (BatchedGenerator batcher = new BatchedGenerator(lm, new BatchedGenerator.Limits(8, UNLIMITED, 2))) {
            AtomicInteger tokens = new AtomicInteger();
            BooleanSupplier afterFour = () -> tokens.get() >= 4;
            CompletableFuture<GenerationResult> cancelled = CompletableFuture.supplyAsync(
                    () -> batcher.generate(prompts.get(2), GenerationConfig.greedy(40), (id, d) -> tokens.incrementAndGet(), afterFour));
            CompletableFuture<GenerationResult> failing = CompletableFuture.supplyAsync(
                    () -> batcher.generate(prompts.get(3), GenerationConfig.greedy(40), (id, d) -> {
                        throw new IllegalStateException("the client's stream broke");
                    }, () -> false));
            CompletableFuture<GenerationResult> fine = CompletableFuture.supplyAsync(
                    () -> batcher.generate(prompts.get(4), config(4, true), TokenListener.NONE, () -> false));
            assertThat(cancelled.get().finishReason()).isEqualTo("cancelled");
            assertThat(cancelled.get().generatedIds()).hasSize(4);
            assertThatThrownBy(failing::get).hasRootCauseMessage("the client's stream broke");
            assertThat(fine.get().generatedIds()).containsExactly(
                    lm.generate(prompts.get(4), config(4, true), TokenListener.NONE, () -> false).generatedIds());
            assertThat(batcher.running()).isZero();
            assertThat(batcher.kvCacheBytesInUse()).isZero();
        }
    }

    @Test
    void closingFailsWaitingRequestsInsteadOfLeavingThemHanging() throws Exception {
        BatchedGenerator batcher = new BatchedGenerator(lm, new BatchedGenerator.Limits(1, UNLIMITED, 0));
        java.util.concurrent.CountDownLatch decoding = new java.util.concurrent.CountDownLatch(1);
        TokenListener slow = (id, d) -> {
            decoding.countDown();
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        int all = lm.config().maxPositions() - prompts.get(0).length;
        // Threads of their own: the common pool has one worker on two cores, which could run the second request first.
        java.util.concurrent.ExecutorService clients = java.util.concurrent.Executors.newFixedThreadPool(2);
        CompletableFuture<GenerationResult> running = CompletableFuture.supplyAsync(
                () -> batcher.generate(prompts.get(0), GenerationConfig.greedy(all), slow, () -> false), clients);
        assertThat(decoding.await(60, java.util.concurrent.TimeUnit.SECONDS)).as("the first request decodes").isTrue();
        // it holds the batch of one for its whole length (5 ms a token): the second waits behind it
        CompletableFuture<GenerationResult> queued = CompletableFuture.supplyAsync(
                () -> batcher.generate(prompts.get(1), GenerationConfig.greedy(200), TokenListener.NONE, () -> false), clients);
        Thread.sleep(100);
        batcher.close();
        assertThatThrownBy(queued::get).hasRootCauseMessage("the model was closed");
        assertThatThrownBy(running::get).hasRootCauseMessage("the model was closed");
        assertThatThrownBy(() -> batcher.generate(prompts.get(0), GenerationConfig.greedy(2), TokenListener.NONE, () -> false))
                .hasMessageContaining("closed");
        clients.shutdownNow();
    }
}
