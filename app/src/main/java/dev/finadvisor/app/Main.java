package dev.finadvisor.app;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import dev.finadvisor.domain.UserError;
import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/** Entry point of the {@code finadvisor} command line: parses, sets up logging, runs, maps errors to exit codes. */
public final class Main {
    /** Exit code for a usage or input error (bad option, bad config, bad file). */
    public static final int USER_ERROR = 2;
    /** Exit code for a failure that is not the user's (a bug, an I/O fault). */
    public static final int FAILURE = 1;

    /**
     * Lucene's (java.util.logging), which warns on every start that its SIMD vector scoring needs a newer Java:
     * on Java 17 it scores without, as designed. Held here: java.util.logging forgets unreferenced loggers' levels.
     */
    static final java.util.logging.Logger LUCENE_VECTORIZATION = java.util.logging.Logger.getLogger("org.apache.lucene.internal.vectorization");

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs one command line; {@code out} gets results, {@code err} gets errors. Returns the exit code. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        FinadvisorCommand root = new FinadvisorCommand();
        CommandLine cli = new CommandLine(root);
        cli.setOut(out).setErr(err);
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setUsageHelpAutoWidth(true);
        cli.setExecutionStrategy(parsed -> {
            configureLogging(root.verbose());
            return new CommandLine.RunLast().execute(parsed);
        });
        cli.setParameterExceptionHandler((ex, args1) -> {
            CommandLine cmd = ex.getCommandLine();
            String hint = "";
            if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
                hint = " (did you mean " + String.join(" or ", u.getSuggestions()) + "?)";
            }
            cmd.getErr().println("error: " + firstLine(ex.getMessage()) + hint
                    + "; see '" + cmd.getCommandSpec().qualifiedName() + " --help'");
            return USER_ERROR;
        });
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            boolean user = ex instanceof UserError;
            Optional<String> memory = OutOfMemory.explain(ex);
            if (memory.isPresent() && !root.verbose()) {
                cmd.getErr().println("error: " + memory.get());
            } else if (root.verbose()) {
                ex.printStackTrace(cmd.getErr());
            } else {
                String message = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
                cmd.getErr().println("error: " + (user ? message : message + " (" + ex.getClass().getSimpleName()
                        + "; run with -v for the stack trace)"));
            }
            cmd.getErr().flush();
            return user ? USER_ERROR : FAILURE;
        });
        int code;
        try {
            code = cli.execute(args);
        } catch (OutOfMemoryError e) { // an Error passes picocli's handler
            if (root.verbose()) e.printStackTrace(err);
            err.println("error: " + OutOfMemory.explain(e).orElseThrow());
            code = FAILURE;
        }
        out.flush();
        err.flush();
        return code;
    }

    private static String firstLine(String s) {
        if (s == null) return "invalid arguments";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /**
     * Libraries whose debug output prints request and response headers, and with them credentials (Jetty's HTTP parser
     * prints an Authorization header; gRPC/Netty frames print Qdrant's api-key): they stay at INFO under -v.
     */
    static final List<String> HEADER_LOGGERS = List.of("org.eclipse.jetty", "io.grpc", "io.netty", "org.apache.http", "org.apache.hc");

    /** Quiet by default (our INFO lines, others' warnings); -v turns on debug everywhere but in {@link #HEADER_LOGGERS}. */
    static void configureLogging(boolean verbose) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) return;
        ctx.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(verbose ? Level.DEBUG : Level.WARN);
        ctx.getLogger("dev.finadvisor").setLevel(verbose ? Level.DEBUG : Level.INFO);
        for (String name : HEADER_LOGGERS) ctx.getLogger(name).setLevel(verbose ? Level.INFO : null);
        LUCENE_VECTORIZATION.setLevel(verbose ? java.util.logging.Level.ALL : java.util.logging.Level.SEVERE);
    }
}
