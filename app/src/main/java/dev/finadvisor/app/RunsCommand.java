package dev.finadvisor.app;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.finadvisor.domain.runs.Run;
import dev.finadvisor.domain.runs.RunJson;
import dev.finadvisor.domain.runs.RunStore;
import dev.finadvisor.domain.runs.RunsJson;
import dev.finadvisor.training.tracking.RunCharts;
import dev.finadvisor.training.tracking.RunReport;
import dev.finadvisor.training.tracking.RunsView;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code finadvisor runs list | show | compare | report}: the training runs recorded under the runs folder. */
@Command(name = "runs", mixinStandardHelpOptions = true,
        description = "Training runs recorded under the runs folder (default ./runs): list, show, compare, report.",
        subcommands = {RunsCommand.ListRuns.class, RunsCommand.Show.class, RunsCommand.Compare.class, RunsCommand.Report.class})
final class RunsCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The runs folder option every runs subcommand takes. */
    static final class RunsDir {
        @Option(names = "--runs-dir", paramLabel = "DIR", defaultValue = "runs", description = "The runs folder (default: ${DEFAULT-VALUE}).")
        Path dir;

        RunStore store() {
            return new RunStore(dir);
        }
    }

    static void printJson(PrintWriter out, Object node) {
        try {
            out.println(RunJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(node));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "One line per run: status, start, duration, steps, last loss and validation loss, base model.")
    static final class ListRuns implements Callable<Integer> {
        @Mixin
        RunsDir runs;

        @Option(names = "--json", description = "Print JSON (an array of runs) instead of a table.")
        boolean json;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            RunStore.Listing listing = runs.store().list();
            PrintWriter out = spec.commandLine().getOut();
            if (json) printJson(out, RunsJson.list(listing));
            else out.print(RunsView.list(listing));
            for (String problem : listing.problems()) spec.commandLine().getErr().println("warning: skipped " + problem);
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "One run in full: status, identity (base model, dataset, commit, machine), final metrics, artifacts.")
    static final class Show implements Callable<Integer> {
        @Mixin
        RunsDir runs;

        @Parameters(paramLabel = "RUN", description = "Run id (folder name), a unique prefix of one, or a run folder path.")
        String run;

        @Option(names = "--json", description = "Print JSON (run.json, the real status and every logged step) instead of tables.")
        boolean json;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Run r = runs.store().read(run);
            PrintWriter out = spec.commandLine().getOut();
            if (json) printJson(out, RunsJson.show(r));
            else out.print(RunsView.show(r));
            return 0;
        }
    }

    @Command(name = "compare", mixinStandardHelpOptions = true,
            description = "Runs side by side: status, identity, the configuration keys that differ, final metrics; optionally overlay charts.")
    static final class Compare implements Callable<Integer> {
        @Mixin
        RunsDir runs;

        @Parameters(paramLabel = "RUN", arity = "2..*", description = "Two or more run ids, unique prefixes or folders.")
        List<String> ids;

        @Option(names = "--json", description = "Print JSON (the runs and the differing configuration keys) instead of a table.")
        boolean json;

        @Option(names = "--plots", paramLabel = "DIR", description = "Also write overlay PNG charts (loss, eval_loss, learning_rate, tokens_per_s; one line per run) into DIR.")
        Path plots;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            List<Run> list = new ArrayList<>();
            for (String id : ids) list.add(runs.store().read(id));
            PrintWriter out = spec.commandLine().getOut();
            if (json) printJson(out, RunsView.compareJson(list));
            else out.print(RunsView.compare(list));
            if (plots != null) {
                for (String metric : List.of("loss", "eval_loss", "learning_rate", "tokens_per_s")) {
                    RunCharts.overlay(list, metric).ifPresent(c -> spec.commandLine().getErr().println("wrote " + RunCharts.write(c, plots)));
                }
            }
            return 0;
        }
    }

    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "Write a run's self-contained HTML report (charts embedded, final numbers, identity, configuration) into its report/ folder; finished runs get one automatically.")
    static final class Report implements Callable<Integer> {
        @Mixin
        RunsDir runs;

        @Parameters(paramLabel = "RUN", arity = "1..*", description = "Run ids, unique prefixes or folders.")
        List<String> ids;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            for (String id : ids) {
                Run r = runs.store().read(id);
                spec.commandLine().getOut().println(RunReport.write(r));
            }
            return 0;
        }
    }
}
