package dev.finadvisor.domain.runs;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.finadvisor.domain.UserError;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Where a training run stands; {@code run.json} holds it in lower case. */
public enum RunStatus {
    RUNNING, FINISHED, FAILED,
    /** The process ended without finishing or failing: a signal, a crash of the JVM, a lost machine. */
    KILLED;

    @JsonValue
    public String json() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static RunStatus parse(String s) {
        for (RunStatus v : values()) {
            if (v.json().equals(s)) return v;
        }
        throw new UserError("status '" + s + "' is not one of "
                + Arrays.stream(values()).map(RunStatus::json).collect(Collectors.joining(", ")));
    }
}
