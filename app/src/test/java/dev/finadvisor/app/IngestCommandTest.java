package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ingest command's option handling (the job itself is tested in feature-pipeline). */
class IngestCommandTest {
    @TempDir
    Path dir;

    @Test
    void anUnknownSourceIsAOneLineErrorListingTheSources() {
        MainTest.Result r = MainTest.run("ingest", "--source", "kafka");
        assertThat(r.code()).isEqualTo(Main.USER_ERROR);
        assertThat(r.err()).contains("'kafka' is not a source; use jsonl, alpaca-backfill or alpaca-stream");
    }

    @Test
    void missingOrMisplacedOptionsSayWhatToGive() {
        MainTest.Result noPath = MainTest.run("ingest", "--source", "jsonl", "--store", dir.resolve("s").toString());
        assertThat(noPath.code()).isEqualTo(Main.USER_ERROR);
        assertThat(noPath.err().strip()).isEqualTo("error: --source jsonl needs --path FILE (a JSON Lines file of Alpaca news objects)");

        MainTest.Result missing = MainTest.run("ingest", "--source", "jsonl", "--path", dir.resolve("nope.jsonl").toString());
        assertThat(missing.err()).contains("nope.jsonl: no such file");

        MainTest.Result symbols = MainTest.run("ingest", "--source", "jsonl", "--path", "x", "--symbols", "AAPL");
        assertThat(symbols.err()).contains("apply only to the alpaca sources");

        MainTest.Result master = MainTest.run("ingest", "--source", "jsonl", "--path", "x", "--flink-master", "localhost");
        assertThat(master.err()).contains("--flink-master 'localhost': expected HOST:PORT");

        MainTest.Result from = MainTest.run("ingest", "--source", "alpaca-backfill", "--from", "last tuesday");
        assertThat(from.err()).contains("'last tuesday'");
    }

    @Test
    void theStreamNeedsAlpacaKeysFromTheEnvironment() {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("ALPACA_API_KEY") == null, "ALPACA_API_KEY is set here");
        MainTest.Result r = MainTest.run("ingest", "--source", "alpaca-stream", "--store", dir.resolve("s").toString());
        assertThat(r.code()).isEqualTo(Main.USER_ERROR);
        assertThat(r.err()).contains("ALPACA_API_KEY is not set");
    }
}
