package dev.finadvisor.domain.runs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finadvisor.domain.UserError;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Damaged run and registry files: every reader either reads them or says what is wrong where, never anything else. */
class RunFilesFuzzTest {
    private static final String RUN_JSON = """
            {"format": 1, "id": "r", "name": "fin", "status": "finished", "started_at": "2026-11-26T07:00:00Z",
             "ended_at": "2026-11-26T08:00:00Z", "base_model": {"path": "/m", "sha256": "ab", "bytes": 3},
             "machine": {"host": "h", "cores": 2, "memory_bytes": 10}, "process": {"pid": 1, "host": "h"},
             "final_metrics": {"loss": 1.5, "eval_loss": "NaN"}, "artifacts": {"adapter": {"path": "adapter", "sha256": "cd", "bytes": 4}}}
            """;
    private static final String METRICS = """
            {"step": 1, "epoch": 0.1, "loss": 2.5, "learning_rate": 1e-4, "grad_norm": 1.0, "tokens_per_s": 900}
            {"step": 2, "loss": "NaN", "eval_loss": 2.75, "perplexity": 15.6, "custom": -1}
            """;
    private static final String MODEL_JSON = """
            {"format": 1, "name": "fin", "version": 1, "created_at": "2026-11-26T07:00:00Z",
             "adapter": {"path": "adapter", "sha256": "aa", "bytes": 2}, "base_model": {"path": "/m", "sha256": "bb", "bytes": 1},
             "run_id": "r", "run_dir": "/runs/r", "metrics": {"eval_loss": 1.1}}
            """;
    private static final String ALIASES = "{\"production\": 1, \"staging\": 1}";

    @TempDir
    Path tmp;

    private static String mutate(String s, Random rnd) {
        StringBuilder sb = new StringBuilder(s);
        int edits = 1 + rnd.nextInt(4);
        String alphabet = "{}[]\":,0123456789.-eE nulltruefalseNaN\n\\xé";
        for (int i = 0; i < edits && sb.length() > 0; i++) {
            int at = rnd.nextInt(sb.length());
            switch (rnd.nextInt(4)) {
                case 0 -> sb.deleteCharAt(at);
                case 1 -> sb.insert(at, alphabet.charAt(rnd.nextInt(alphabet.length())));
                case 2 -> sb.setCharAt(at, alphabet.charAt(rnd.nextInt(alphabet.length())));
                default -> sb.setLength(at); // cut short, as by a crash
            }
        }
        return sb.toString();
    }

    @Test
    void damagedFilesAreReadOrRejectedWithAUserErrorNamingTheFile() throws Exception {
        Random rnd = new Random();
        long seed = rnd.nextLong();
        rnd.setSeed(seed);
        Path run = Files.createDirectories(tmp.resolve("runs/r"));
        Path model = Files.createDirectories(tmp.resolve("registry/fin/versions/1/adapter"));
        int rejected = 0;
        for (int i = 0; i < 500; i++) {
            boolean runSide = rnd.nextBoolean();
            String which;
            if (runSide) {
                boolean damageMetrics = rnd.nextBoolean();
                Files.writeString(run.resolve("run.json"), damageMetrics ? RUN_JSON : mutate(RUN_JSON, rnd), StandardCharsets.UTF_8);
                Files.writeString(run.resolve("metrics.jsonl"), damageMetrics ? mutate(METRICS, rnd) : METRICS, StandardCharsets.UTF_8);
                which = damageMetrics ? "metrics.jsonl" : "run.json";
            } else {
                boolean damageAliases = rnd.nextBoolean();
                Files.writeString(model.getParent().resolve("model.json"), damageAliases ? MODEL_JSON : mutate(MODEL_JSON, rnd), StandardCharsets.UTF_8);
                Files.writeString(tmp.resolve("registry/fin/aliases.json"), damageAliases ? mutate(ALIASES, rnd) : ALIASES, StandardCharsets.UTF_8);
                which = damageAliases ? "aliases.json" : "model.json";
            }
            try {
                if (runSide) {
                    Run r = RunStore.readDir(run);
                    assertThat(r.status()).isNotNull();
                } else {
                    RegisteredAdapter a = new Registry(tmp.resolve("registry")).resolve("registry:fin@production");
                    assertThat(a.adapterDir()).isNotNull();
                }
            } catch (UserError e) {
                rejected++;
                assertThat(e.getMessage()).as("seed %d, damaged %s", seed, which).contains(which.equals("aliases.json") && e.getMessage().contains("no alias") ? "alias" : which);
            } catch (RuntimeException e) {
                throw new AssertionError("seed " + seed + ": damaged " + which + " gave " + e + " instead of a UserError", e);
            }
        }
        assertThat(rejected).as("the damage was noticed at least sometimes").isPositive();
    }
}
