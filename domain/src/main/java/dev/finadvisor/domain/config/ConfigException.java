package dev.finadvisor.domain.config;

import dev.finadvisor.domain.UserError;
import java.util.List;

/** One or more problems in a job's configuration, each naming the key, where it came from and what is allowed. */
public final class ConfigException extends UserError {
    private final List<String> problems;

    public ConfigException(List<String> problems) {
        super(problems.size() == 1 ? problems.get(0)
                : problems.size() + " configuration problems:\n  - " + String.join("\n  - ", problems));
        this.problems = List.copyOf(problems);
    }

    public ConfigException(String problem) {
        this(List.of(problem));
    }

    public List<String> problems() {
        return problems;
    }
}
