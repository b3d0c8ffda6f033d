package dev.finadvisor.inference;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptLogTest {
    @TempDir Path dir;
    final ObjectMapper json = new ObjectMapper();

    private List<String> defaultPatterns() {
        return new ConfigLoader().load(ServeConfig.class, ServeConfig.DEFAULTS, null, List.of()).value().prompt_log().redact();
    }

    @Test
    void defaultPatternsRedactEmailsIbansAndAccountNumbersButNotDatesOrAmounts() {
        PromptLog log = new PromptLog(dir.resolve("p.jsonl"), 1 << 20, 2, defaultPatterns(), json);
        assertThat(log.redact("mail jane.doe+x@mail.example.org now")).isEqualTo("mail [REDACTED] now");
        assertThat(log.redact("IBAN DE89 3704 0044 0532 0130 00 ok")).isEqualTo("IBAN [REDACTED] ok");
        assertThat(log.redact("card 4111 1111 1111 1111, acct 0123456789")).isEqualTo("card [REDACTED], acct [REDACTED]");
        assertThat(log.redact("on 2026-11-19 I saved 60000 USD, 1,500 a month")).isEqualTo("on 2026-11-19 I saved 60000 USD, 1,500 a month");
    }

    @Test
    void redactionReachesNestedValuesAndLinesRotateBySize() throws Exception {
        Path file = dir.resolve("logs/prompts.jsonl");
        PromptLog log = new PromptLog(file, 300, 2, defaultPatterns(), json);
        for (int i = 0; i < 12; i++) {
            log.append(Map.of("n", i, "vars", Map.of("about_me", "me@example.com", "list", List.of("call 0123456789"))));
        }
        assertThat(Files.size(file)).isLessThanOrEqualTo(300);
        assertThat(log.rotated(1)).exists();
        assertThat(log.rotated(2)).exists();
        assertThat(log.rotated(3)).doesNotExist(); // keep_files = 2
        List<String> newest = Files.readAllLines(file);
        assertThat(json.readTree(newest.get(newest.size() - 1)).get("n").asInt()).isEqualTo(11);
        // Rotated files hold older lines, in order, each whole and redacted.
        int prev = -1;
        for (Path p : List.of(log.rotated(2), log.rotated(1), file)) {
            for (String line : Files.readAllLines(p)) {
                var node = json.readTree(line);
                assertThat(node.get("n").asInt()).isGreaterThan(prev);
                prev = node.get("n").asInt();
                assertThat(line).doesNotContain("example.com").doesNotContain("0123456789").contains("[REDACTED]");
            }
        }
        assertThat(prev).isEqualTo(11);
    }
}
