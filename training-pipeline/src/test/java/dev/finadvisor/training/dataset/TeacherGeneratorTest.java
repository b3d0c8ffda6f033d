package dev.finadvisor.training.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.news.NewsArticle;
import dev.finadvisor.domain.qa.QaDataset;
import dev.finadvisor.domain.qa.QaSample;
import dev.finadvisor.training.openai.ChatClient;
import dev.finadvisor.training.openai.FakeOpenAi;
import dev.finadvisor.training.openai.FakeOpenAi.Reply;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The teacher against a local fake of OpenAI's chat completions endpoint: by default it answers every request with a
 * good sample about the news in the request (numbered, so no two are alike); a script of special replies goes first.
 */
class TeacherGeneratorTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path dir;
    FakeOpenAi fake;
    final AtomicInteger goodAnswers = new AtomicInteger();
    volatile int failFrom = Integer.MAX_VALUE; // from this request on: 401 for every request

    @BeforeEach
    void start() throws IOException {
        // with the script empty: a good sample about the request's news, or from request failFrom on a refused key
        fake = new FakeOpenAi(request -> fake.requests().size() >= failFrom ? Reply.error(401, null)
                : Reply.content(good(request.at("/messages/1/content").asText())));
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    /** A good sample about the news in {@code prompt}: it names a word of the headline, and is numbered. */
    private String good(String prompt) {
        String news = prompt.substring(prompt.indexOf("):\n") + 3);
        String firstWord = java.util.Arrays.stream(news.split("[^A-Za-z0-9]+"))
                .filter(w -> w.length() >= 5 && !List.of("stocks", "market", "markets", "investors").contains(w.toLowerCase())).findFirst().orElseThrow();
        int n = goodAnswers.incrementAndGet();
        String question = "How should " + firstWord + " news change my plan, case " + n + "?";
        String response = "Given the " + firstWord + " news, keep " + (10 + n) + "% in cash and buy broad index funds monthly; "
                + "case " + n + " " + "alpha beta gamma delta epsilon zeta eta theta iota kappa".split(" ")[n % 10] + ".";
        return JSON.createObjectNode().put("question", question).put("response", response).toString();
    }

    private ChatClient client(int attempts) {
        return new ChatClient(fake.baseUrl(), "sk-test", Duration.ofMillis(800), attempts,
                Duration.ofMillis(10));
    }

    /** Bag of words hashed into 256 dimensions: equal texts give equal vectors, the numbered samples differ. */
    static final Function<String, float[]> WORDS = text -> {
        float[] v = new float[256];
        for (String w : text.toLowerCase().split("[^a-z0-9]+")) if (!w.isEmpty()) v[Math.floorMod(w.hashCode(), 256)] += 1;
        return v;
    };

    static final NewsArticle NVIDIA = new NewsArticle(1, "Nvidia beats estimates as AI chip demand soars", "Data center revenue doubled.",
            "a", java.time.Instant.parse("2025-05-01T12:00:00Z"), java.time.Instant.parse("2025-05-01T12:00:00Z"), "https://n/1", "",
            List.of("NVDA"), "benzinga");

    private TeacherGenerator generator(int n, int concurrency, List<String> said) {
        return generator(NewsSample.bundled(), n, concurrency, said);
    }

    private TeacherGenerator generator(List<NewsArticle> news, int n, int concurrency, List<String> said) {
        return new TeacherGenerator(client(4), "teacher-1", news, WORDS, new TeacherGenerator.Settings(n, concurrency, 7, 8), said::add);
    }

    private static List<Integer> slots(Path file) {
        List<Integer> slots = new ArrayList<>();
        for (QaSample s : QaDataset.load(file)) slots.add((Integer) s.extra().get("slot"));
        return slots;
    }

    @Test
    void everyFailureModeIsRetriedOrRejectedAndTheFileEndsWithExactlyNSamples() throws Exception {
        String duplicate = good("News (x):\n" + NVIDIA.headline()); // as the fake's own first good reply would be, but numbered 1
        fake.add(Reply.content("Sure! Here is a sample: " + duplicate)); // prose around the object: malformed, retried
        fake.add(Reply.content(duplicate));
        fake.add(Reply.content(duplicate)); // the same sample again: near-duplicate, the slot draws again
        fake.add(Reply.content("{\"question\": \"Should I buy?\", \"response\": \"I'm sorry, but I can't provide financial advice on Apple stock here.\"}"));
        fake.add(Reply.content("{\"question\": \"Should I buy?\", \"response\": \"Yes.\"}")); // too short
        fake.add(Reply.content("{\"question\": \"Should I buy more?\", \"response\": \"Keep a steady plan and rebalance twice a year without worrying.\"}"));
        fake.add(Reply.error(429, "1"));
        fake.add(Reply.error(500, null));
        fake.add(Reply.content("{}").delayed(2000)); // past the 800 ms timeout
        List<String> said = new ArrayList<>();
        Path out = dir.resolve("qa.jsonl");
        long t0 = System.nanoTime();
        TeacherGenerator.Report r = generator(List.of(NVIDIA), 5, 1, said).run(out, false, () -> false);
        assertThat((System.nanoTime() - t0) / 1_000_000).as("Retry-After: 1 honoured").isGreaterThanOrEqualTo(1000);

        assertThat(r.total()).isEqualTo(5);
        assertThat(r.gaveUp()).isZero();
        assertThat(slots(out)).containsExactlyInAnyOrder(0, 1, 2, 3, 4);
        assertThat(r.rejected()).containsOnlyKeys("near-duplicate", "refusal or boilerplate", "length", "no reference to the news");
        assertThat(said).anyMatch(l -> l.contains("rejected: refusal or boilerplate ('I'm sorry')"));
        List<String> rejected = Files.readAllLines(dir.resolve("qa.jsonl.rejected.jsonl"));
        assertThat(rejected).hasSize(4);
        assertThat(JSON.readTree(rejected.get(0)).get("reason").asText()).startsWith("near-duplicate");
        assertThat(r.usage().promptTokens()).isEqualTo(100L * (fake.requests().size() - 3)); // the 429, the 500 and the timeout report none
        QaSample first = QaDataset.load(out).get(0);
        assertThat(first.aboutMe()).isNotBlank();
        assertThat(first.context()).isNotBlank();
        assertThat(first.extra()).containsEntry("source", TeacherGenerator.SOURCE).containsEntry("teacher", "teacher-1").containsKey("news_id");
        QaDataset.load(out, QaDataset.Options.TRAINING); // the file trains as it is
    }

    @Test
    void aRunStoppedMidWayAndResumedHoldsExactlyNSamplesNoneLostOrDuplicated() throws Exception {
        Path out = dir.resolve("qa.jsonl");
        failFrom = 4; // three samples, then the key stops working: the run stops and says so
        assertThatThrownBy(() -> generator(8, 2, new ArrayList<>()).run(out, false, () -> false)).isInstanceOf(UserError.class)
                .hasMessageContaining("HTTP 401").hasMessageContaining("--resume");
        int before = slots(out).size();
        assertThat(before).isBetween(2, 4);
        Files.writeString(out, "{\"about_me\": \"cut off by a kill", java.nio.file.StandardOpenOption.APPEND); // a line a kill -9 cut short
        assertThatThrownBy(() -> generator(8, 2, new ArrayList<>()).run(out, false, () -> false)).isInstanceOf(UserError.class)
                .hasMessageContaining("--resume");

        failFrom = Integer.MAX_VALUE;
        List<String> said = new ArrayList<>();
        TeacherGenerator.Report r = generator(8, 2, said).run(out, true, () -> false);
        assertThat(said.get(0)).isEqualTo("resume: " + before + " samples in " + out + ", " + (8 - before) + " to go");
        assertThat(r.total()).isEqualTo(8);
        assertThat(r.written()).isEqualTo(8 - before);
        assertThat(slots(out)).hasSize(8);
        assertThat(new TreeSet<>(slots(out))).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
        TeacherGenerator.Report again = generator(8, 2, new ArrayList<>()).run(out, true, () -> false);
        assertThat(again.written()).as("a finished file is left as it is").isZero();
    }

    @Test
    void resumingAFileThisCommandDidNotWriteLeavesItAlone() throws Exception {
        Path array = Files.writeString(dir.resolve("array.jsonl"), "[{\"about_me\": \"a\", \"context\": \"c\", \"question\": \"q\", \"response\": \"r\"}]");
        assertThatThrownBy(() -> generator(3, 1, new ArrayList<>()).run(array, true, () -> false)).isInstanceOf(UserError.class)
                .hasMessageContaining("line 1").hasMessageContaining("not a sample written by dataset generate");
        assertThat(Files.size(array)).as("not cut").isGreaterThan(10);
        Path other = Files.writeString(dir.resolve("other.jsonl"), "{\"about_me\": \"a\", \"context\": \"c\", \"question\": \"q\", \"response\": \"r\"}\n");
        assertThatThrownBy(() -> generator(3, 1, new ArrayList<>()).run(other, true, () -> false)).hasMessageContaining("no slot");
        Path out = dir.resolve("qa.jsonl");
        generator(3, 1, new ArrayList<>()).run(out, false, () -> false);
        assertThatThrownBy(() -> generator(2, 1, new ArrayList<>()).run(out, true, () -> false)).hasMessageContaining("more than --n 2");
    }

    @Test
    void cancellingStopsAsking() throws Exception {
        Path out = dir.resolve("qa.jsonl");
        TeacherGenerator.Report r = generator(50, 1, new ArrayList<>()).run(out, false, () -> goodAnswers.get() >= 3);
        assertThat(r.stopped()).isTrue();
        assertThat(r.total()).isEqualTo(3); // one request at a time: asked before each, the flag stops the fourth
        assertThat(slots(out)).hasSize(r.total());
    }

    @Test
    void anAnswerThatIgnoresTheNewsIsRejected() {
        var article = NVIDIA;
        QaSample generic = new QaSample("I am 30.", "x", "What should I do now?", "Keep buying broad index funds every month and hold cash for emergencies.");
        assertThat(TeacherGenerator.gate(generic, article)).startsWith("no reference to the news");
        QaSample specific = new QaSample("I am 30.", "x", "What should I do now?", "After the NVDA earnings beat, keep buying broad index funds every month.");
        assertThat(TeacherGenerator.gate(specific, article)).isNull();
    }
}
