package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.lucene.internal.vectorization.VectorizationProvider;
import org.junit.jupiter.api.Test;

class MainTest {
    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void helpListsEveryCommandWithADescription() {
        Result r = run("--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("Usage: finadvisor").contains("doctor").contains("Check this machine");
        assertThat(run().out()).contains("Usage: finadvisor"); // no command: usage
    }

    @Test
    void everyCommandDocumentsItsOptions() {
        var cli = new picocli.CommandLine(new FinadvisorCommand());
        for (var sub : cli.getSubcommands().values()) {
            String name = sub.getCommandName();
            Result r = run(name, "--help");
            assertThat(r.code()).as(name).isZero();
            assertThat(r.out()).as(name).contains("Usage: finadvisor " + name);
            for (var option : sub.getCommandSpec().options()) {
                assertThat(option.description()).as(name + " " + option.longestName()).isNotEmpty();
            }
        }
    }

    @Test
    void badOptionIsOneLineErrorWithExitCode2() {
        Result r = run("doctor", "--no-engin");
        assertThat(r.code()).isEqualTo(Main.USER_ERROR);
        assertThat(r.err().strip()).doesNotContain("\n").startsWith("error: Unknown option: '--no-engin'")
                .contains("did you mean --no-engine?").contains("see 'finadvisor doctor --help'");
        Result unknown = run("docter");
        assertThat(unknown.code()).isEqualTo(Main.USER_ERROR);
        assertThat(unknown.err()).contains("did you mean doctor"); // picocli may list further near names
    }

    @Test
    void doctorReportsTheMachineAndTheEngine() {
        Result r = run("doctor", "--matmul-size", "256");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("cores").contains("jemalloc").containsPattern("engine +PyTorch 2\\.7\\.1 on cpu\\(\\), fp32 matmul 256\\^3: [0-9.]+ GFLOP/s")
                .contains("ALPACA_API_KEY")
                .containsPattern("decode +Java SIMD loops, [0-9]+ threads"); // surefire starts the JVM with the Vector API, as the launcher does
    }

    @Test
    void lucenesJava17VectorizationWarningShowsOnlyWithVerbose() {
        // the logger Lucene's lookup warns through ("... your Java version is too old: 17") on every start
        Logger lookup = Logger.getLogger(VectorizationProvider.class.getName());
        try {
            Main.configureLogging(false);
            assertThat(lookup.isLoggable(Level.WARNING)).isFalse();
            Main.configureLogging(true);
            assertThat(lookup.isLoggable(Level.WARNING)).isTrue();
        } finally {
            Main.configureLogging(false);
        }
    }
}
