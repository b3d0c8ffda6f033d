package dev.finadvisor.inference.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finadvisor.inference.ScriptedGenerator;
import dev.finadvisor.inference.TextGenerator;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

/** The advisor's chat page in a real headless Chromium against a real server, model and news store. */
class WebUiBrowserTest {
    static final Instant NOW = AdvisorServerTest.NOW;
    static final String ABOUT = "I am 30, I earn 60k a year and have 10k saved.";
    static ServerParts parts;

    @TempDir static Path shared;
    @TempDir Path dir;

    @BeforeAll
    static void load() throws Exception {
        parts = new ServerParts(shared, NOW);
    }

    @AfterAll
    static void close() {
        parts.close();
    }

    private TestServer server(TextGenerator generator, Map<String, String> env, String... sets) {
        return new TestServer(dir, generator, parts.embedder, parts.store, NOW, env, sets);
    }

    private static String metrics(TestServer s) {
        try {
            return s.get("/metrics").body();
        } catch (java.io.IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Types a question and sends it with Enter, as a keyboard user would. */
    private static void ask(Browser b, String question) {
        b.find("#question").sendKeys(question, Keys.ENTER);
    }

    private static List<WebElement> turns(Browser b, String state) {
        return b.all(".turn[data-state=\"" + state + "\"]");
    }

    @Test
    void twoQuestionsStreamTheirAnswersWithSourcesAndTheConversationIsKept() throws Exception {
        // greedy: the random tiny model's answers are then the same each run (and not cut short by a sampled end token)
        try (TestServer s = server(parts.tiny, Map.of(), "generation.max_new_tokens=32", "generation.temperature=0"); Browser b = Browser.start("chat")) {
            b.open(s.base + "/");
            assertThat(b.unlabelledControls()).isEmpty();
            b.fill("#about", ABOUT);
            // Every text the answer shows while it streams, in order.
            b.js("""
                    window.shown = [];
                    new MutationObserver(ms => { for (const m of ms) for (const n of m.addedNodes)
                      if (n.nodeType === 3 && n.parentElement && n.parentElement.classList.contains('answer')) window.shown.push(n.data); })
                      .observe(document.getElementById('conversation'), {childList: true, subtree: true});""");
            ask(b, "Should I buy Apple shares after the iPhone results?");
            b.await(60, d -> turns(b, "done").size() == 1);

            JsonNode first = s.promptLogLines().get(0);
            String answer = b.find(".turn .answer").getText();
            assertThat(answer).isNotBlank().isEqualTo(first.get("answer").asText().strip());
            @SuppressWarnings("unchecked") List<String> shown = (List<String>) b.js("return window.shown;");
            assertThat(shown).as("the answer arrived token by token").hasSizeGreaterThan(3);
            for (int i = 1; i < shown.size(); i++) assertThat(shown.get(i)).startsWith(shown.get(i - 1));
            assertThat(shown.get(shown.size() - 1).strip()).isEqualTo(answer);
            // Its sources: Apple's article (the question names Apple), linked, with time, ticker and score.
            WebElement source = b.find(".turn .source a");
            assertThat(source.getText()).isEqualTo("Apple reports record iPhone revenue");
            assertThat(source.getDomAttribute("href")).isEqualTo("https://news.example.com/1");
            assertThat(b.find(".turn .source .meta").getText()).contains("2026-11-19 12:00 UTC").contains("AAPL").containsPattern("score \\d\\.\\d\\d");
            assertThat(b.find("#stop").isEnabled()).isFalse();

            ask(b, "And Tesla, after the deliveries miss?");
            b.await(60, d -> turns(b, "done").size() == 2);
            List<WebElement> questions = b.all(".turn .question");
            assertThat(questions).extracting(WebElement::getText)
                    .containsExactly("Should I buy Apple shares after the iPhone results?", "And Tesla, after the deliveries miss?");
            assertThat(b.all(".turn .answer").get(0).getText()).isEqualTo(answer); // the first turn stays as it was
            String secondPrompt = s.promptLogLines().get(1).get("prompt").asText();
            assertThat(secondPrompt).contains("Should I buy Apple shares after the iPhone results?").contains(answer.strip()); // the history went with it
            assertThat(b.all(".turn").get(1).findElements(org.openqa.selenium.By.cssSelector(".source a")))
                    .extracting(WebElement::getText).contains("Tesla deliveries miss estimates");
            b.screenshot("two-answers");

            // Reloading keeps the conversation and about-me; at phone width nothing scrolls sideways.
            b.open(s.base + "/");
            assertThat(b.all(".turn")).hasSize(2);
            assertThat(b.find("#about").getDomProperty("value")).isEqualTo(ABOUT);
            b.resize(390, 844);
            assertThat(b.fitsWidth()).isTrue();
            b.screenshot("phone");
            b.find("#new").click();
            assertThat(b.all(".turn")).isEmpty();
        }
    }

    @Test
    void stopEndsTheAnswerAndCancelsItsGenerationOnTheServer() throws Exception {
        ScriptedGenerator slow = new ScriptedGenerator(250);
        try (TestServer s = server(slow, Map.of()); Browser b = Browser.start("stop")) {
            b.open(s.base + "/");
            b.fill("#about", ABOUT);
            ask(b, "Should I buy Apple shares after the iPhone results?");
            b.await(20, d -> b.find(".turn .answer").getText().split(" ").length >= 3);
            b.find("#stop").click();
            b.await(10, d -> turns(b, "stopped").size() == 1);
            String shown = b.find(".turn .answer").getText().strip();
            assertThat(ScriptedGenerator.ANSWER).startsWith(shown);
            assertThat(shown.length()).isLessThan(ScriptedGenerator.ANSWER.length());
            b.await(10, d -> slow.last.get() != null);
            assertThat(slow.last.get().finishReason()).isEqualTo("cancelled");
            b.await(10, d -> metrics(s).contains("route=\"/v1/advice/stream\",method=\"POST\",status=\"499\"")); // counted as the client's going
            assertThat(b.find("#go").isEnabled()).isTrue();
            b.screenshot("stopped");

            // The next question is answered in full, and the stopped answer is not sent as history.
            ask(b, "What about an index fund?");
            b.await(30, d -> turns(b, "done").size() == 1);
            assertThat(b.all(".turn .answer").get(1).getText().strip()).isEqualTo(ScriptedGenerator.ANSWER);
            assertThat(slow.lastPrompt.get()).doesNotContain(shown);
        }
    }

    @Test
    void noNewsIsSaidAndTheWindowWidensOnRequest() throws Exception {
        try (TestServer s = server(new ScriptedGenerator(0), Map.of()); Browser b = Browser.start("no-news")) {
            b.open(s.base + "/");
            b.fill("#about", ABOUT);
            ask(b, "Should I buy Microsoft shares after the cloud results?"); // Microsoft's only news is 30 days old
            b.await(20, d -> turns(b, "done").size() == 1);
            assertThat(b.all(".turn .source")).isEmpty();
            assertThat(b.find(".turn .nonews").getText())
                    .startsWith("No news from the last 7 days matched the question (MSFT); the answer stands on no news.");
            b.screenshot("no-news");
            b.find(".turn .widen").click();
            b.await(20, d -> turns(b, "done").size() == 1 && !b.all(".turn .source").isEmpty());
            assertThat(b.all(".turn")).hasSize(1); // asked again in place
            assertThat(b.find(".turn .source a").getText()).isEqualTo("Microsoft cloud growth slows");
            assertThat(new Select(b.find("#since")).getFirstSelectedOption().getText()).isEqualTo("any time");
            assertThat(s.promptLogLines()).hasSize(2);
        }
    }

    @Test
    void errorsAreSaidPlainlyAndTheAdapterPickerChoosesTheModel() throws Exception {
        ScriptedGenerator alpha = new ScriptedGenerator(0), beta = new ScriptedGenerator(0);
        try (TestServer s = server(alpha, Map.of("FINADVISOR_API_KEYS", "k-123"),
                "limits.rate_limit_per_minute=1", "limits.rate_limit_burst=2"); Browser b = Browser.start("errors")) {
            s.serve(Arrays.asList("alpha", "beta"), List.of(alpha, beta), null);
            b.open(s.base + "/");
            b.fill("#about", ABOUT);
            b.await(10, d -> b.find("#status").getText().contains("API key")); // the models list needs the key too
            ask(b, "Should I buy Apple shares?");
            b.await(10, d -> turns(b, "error").size() == 1);
            assertThat(b.find(".turn .error").getText()).startsWith("The server needs an API key, or the one given is wrong");

            b.fill("#key", "k-123");
            b.find("#key").sendKeys(Keys.TAB); // change event: the key is kept and the models are listed
            b.await(10, d -> b.find("#model-box").isDisplayed());
            List<String> offered = new ArrayList<>();
            new Select(b.find("#model")).getOptions().forEach(o -> offered.add(o.getDomAttribute("value")));
            assertThat(offered).containsExactly("alpha", "beta");
            new Select(b.find("#model")).selectByValue("beta");
            ask(b, "Should I buy Apple shares?");
            b.await(10, d -> turns(b, "done").size() == 1);
            assertThat(beta.started.get()).isEqualTo(1);
            assertThat(alpha.started.get()).isZero();
            assertThat(b.all(".turn .info").get(0).getText()).startsWith("beta · ");

            ask(b, "And Tesla?"); // over the key's burst of 2 (the models list, a question): rate-limited
            b.await(10, d -> turns(b, "error").size() == 2);
            assertThat(b.all(".turn .error").get(1).getText()).matches("Rate-limited: too many requests for this API key; retry after \\d+ s");
            b.screenshot("errors");
            HttpResponse<String> limited = s.post("/v1/advice", "{}", "Authorization", "Bearer k-123");
            assertThat(limited.statusCode()).isEqualTo(429);
        }
    }
}
