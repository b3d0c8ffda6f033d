package dev.finadvisor.app;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.runs.ModelVersion;
import dev.finadvisor.domain.runs.Registry;
import dev.finadvisor.domain.runs.RegistryRef;
import dev.finadvisor.domain.runs.RunsJson;
import dev.finadvisor.domain.runs.Run;
import dev.finadvisor.training.eval.Metrics;
import dev.finadvisor.training.tracking.RegistryView;
import dev.finadvisor.training.tracking.RegistryWriter;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code finadvisor registry push | list | show | promote}: the model registry of trained adapters. */
@Command(name = "registry", mixinStandardHelpOptions = true,
        description = "The model registry (default ./registry): register a run's adapter as a numbered version, list, show, point aliases such as production at versions. "
                + "serve, generate, export and eval accept registry:NAME@ALIAS or registry:NAME:VERSION wherever they accept an adapter folder.",
        subcommands = {RegistryCommand.Push.class, RegistryCommand.ListModels.class, RegistryCommand.Show.class, RegistryCommand.Promote.class})
final class RegistryCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The registry folder option every registry subcommand takes. */
    static final class RegistryDir {
        @Option(names = "--registry", paramLabel = "DIR", defaultValue = "registry", description = "The registry folder (default: ${DEFAULT-VALUE}); registry: references resolve in it.")
        Path dir;
    }

    @Command(name = "push", mixinStandardHelpOptions = true,
            description = "Register a finished run's adapter as the next version of NAME (1, 2, ...), with its base model reference, metrics and a link to the run.")
    static final class Push implements Callable<Integer> {
        @Mixin
        RegistryDir registry;

        @Mixin
        RunsCommand.RunsDir runs;

        @Parameters(paramLabel = "RUN", description = "Run id (folder name), a unique prefix of one, or a run folder path.")
        String run;

        @Option(names = "--name", required = true, paramLabel = "NAME", description = "Model name, e.g. fin-advisor (letters, digits, '.', '_', '-').")
        String name;

        @Option(names = "--alias", paramLabel = "ALIAS", description = "Also point this alias (e.g. staging) at the new version.")
        String alias;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Run r = runs.store().read(run);
            RegistryWriter writer = new RegistryWriter(registry.dir);
            ModelVersion m = writer.push(r, name);
            PrintWriter out = spec.commandLine().getOut();
            out.println("registered " + m.name() + ":" + m.version() + " from run " + r.id() + " in " + registry.dir);
            if (alias != null) {
                writer.promote(m.name(), m.version(), alias);
                out.println(m.name() + "@" + alias + " -> version " + m.version());
            }
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "One line per registered model: how many versions, the latest, its aliases.")
    static final class ListModels implements Callable<Integer> {
        @Mixin
        RegistryDir registry;

        @Option(names = "--json", description = "Print JSON instead of a table.")
        boolean json;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Registry reg = new Registry(registry.dir);
            if (json) RunsCommand.printJson(spec.commandLine().getOut(), RunsJson.registry(reg));
            else spec.commandLine().getOut().print(RegistryView.list(reg));
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "A model's versions (NAME), or one version in full (NAME:VERSION or NAME@ALIAS): adapter folder, base model, run, metrics.")
    static final class Show implements Callable<Integer> {
        @Mixin
        RegistryDir registry;

        @Parameters(paramLabel = "NAME[:VERSION|@ALIAS]", description = "A model, or one version of it; the registry: prefix is optional.")
        String ref;

        @Option(names = "--json", description = "Print JSON instead of tables.")
        boolean json;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Registry reg = new Registry(registry.dir);
            RegistryRef r = RegistryRef.parse(ref);
            PrintWriter out = spec.commandLine().getOut();
            if (!r.isPinned()) {
                if (json) RunsCommand.printJson(out, RunsJson.model(reg, r.name()));
                else out.print(RegistryView.model(reg, r.name()));
            } else if (json) {
                RunsCommand.printJson(out, RunsJson.version(reg.resolve(r)));
            } else {
                out.print(RegistryView.version(reg.resolve(r)));
            }
            return 0;
        }
    }

    @Command(name = "promote", mixinStandardHelpOptions = true, description = "Point an alias (e.g. production) at a version; serve then loads registry:NAME@ALIAS.")
    static final class Promote implements Callable<Integer> {
        @Mixin
        RegistryDir registry;

        @Parameters(paramLabel = "NAME:VERSION", description = "The version to promote, e.g. fin-advisor:3.")
        String ref;

        @Option(names = "--alias", required = true, paramLabel = "ALIAS", description = "The alias to set, e.g. production.")
        String alias;

        @Option(names = "--require-better", paramLabel = "METRIC",
                description = "Refuse (exit status 3) when the version scores worse on METRIC than the one ALIAS points to now, e.g. rouge_l"
                        + " (lower is better for loss, eval_loss, perplexity, latency_ms), or has no METRIC: metrics come from the run"
                        + " (train with eval.after_training: true for evaluation metrics).")
        String requireBetter;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            RegistryRef r = RegistryRef.parse(ref);
            if (r.version() == null) throw new UserError("promote needs NAME:VERSION (e.g. " + r.name() + ":1), got '" + ref + "'");
            if (requireBetter != null) {
                String refusal = comparison(new Registry(registry.dir), r.name(), r.version());
                if (refusal != null) {
                    spec.commandLine().getErr().println("refused: " + refusal);
                    return EvalCommand.GATE_MISSED;
                }
            }
            Integer previous = new RegistryWriter(registry.dir).promote(r.name(), r.version(), alias);
            spec.commandLine().getOut().println(r.name() + "@" + alias + " -> version " + r.version()
                    + (previous == null ? "" : previous.equals(r.version()) ? " (unchanged)" : " (was " + previous + ")"));
            return 0;
        }

        /** Why promoting {@code name:version} would be worse on --require-better, or null when it is not. */
        private String comparison(Registry reg, String name, int version) {
            Double candidate = reg.version(name, version).metrics().get(requireBetter);
            if (candidate == null || candidate.isNaN()) {
                return name + ":" + version + " has no " + requireBetter + " among its metrics " + reg.version(name, version).metrics().keySet()
                        + " (train with eval.after_training: true to record evaluation metrics such as rouge_l)";
            }
            Integer current = reg.aliases(name).get(alias);
            if (current == null || current == version) return null;
            Double now = reg.version(name, current).metrics().get(requireBetter);
            if (now == null || now.isNaN()) return null; // nothing to compare with: the alias's version was never measured so
            boolean lower = Metrics.lowerIsBetter(requireBetter);
            if (lower ? candidate > now : candidate < now) {
                return String.format(Locale.ROOT, "%s:%d has %s %.4f, worse than %.4f of %s:%d (@%s, %s is better)", name, version,
                        requireBetter, candidate, now, name, current, alias, lower ? "lower" : "higher");
            }
            return null;
        }
    }
}
