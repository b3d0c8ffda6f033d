package dev.finadvisor.app;

import dev.finadvisor.domain.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --force}, for a command that writes a new file: without it, an existing file is refused, not replaced. */
final class ReplaceOption {
    @Option(names = "--force", description = "Replace FILE if it exists.")
    boolean force;

    /** Refuses {@code out} if it exists and --force was not given. */
    void check(Path out) {
        if (Files.exists(out) && !force) throw new UserError(out + " exists; pass --force to replace it");
    }
}
