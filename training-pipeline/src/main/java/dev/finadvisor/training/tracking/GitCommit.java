package dev.finadvisor.training.tracking;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The commit of the project a run was started from, read from {@code .git} directly (worktrees,
 * loose and packed refs, detached HEAD) so it needs no git binary; "unknown" outside a repository.
 * Whether the work tree had uncommitted changes needs git itself; null when it is not installed.
 */
public record GitCommit(String commit, Boolean dirty) {
    public static final String UNKNOWN = "unknown";
    private static final Pattern SHA = Pattern.compile("[0-9a-f]{40}([0-9a-f]{24})?");

    /** The commit of the repository containing {@code dir} (searching upward). */
    public static GitCommit of(Path dir) {
        Optional<Path> top = findTop(dir.toAbsolutePath().normalize());
        if (top.isEmpty()) return new GitCommit(UNKNOWN, null);
        String commit = readHead(top.get()).orElse(UNKNOWN);
        return new GitCommit(commit, commit.equals(UNKNOWN) ? null : dirty(top.get()));
    }

    private static Optional<Path> findTop(Path dir) {
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.exists(d.resolve(".git"))) return Optional.of(d);
        }
        return Optional.empty();
    }

    static Optional<String> readHead(Path top) {
        try {
            Path gitDir = top.resolve(".git");
            if (Files.isRegularFile(gitDir)) { // a worktree or submodule: "gitdir: PATH"
                String line = Files.readString(gitDir).strip();
                if (!line.startsWith("gitdir:")) return Optional.empty();
                gitDir = top.resolve(line.substring("gitdir:".length()).strip()).normalize();
            }
            Path common = gitDir;
            Path commonFile = gitDir.resolve("commondir");
            if (Files.isRegularFile(commonFile)) common = gitDir.resolve(Files.readString(commonFile).strip()).normalize();
            String head = Files.readString(gitDir.resolve("HEAD")).strip();
            if (!head.startsWith("ref:")) return SHA.matcher(head).matches() ? Optional.of(head) : Optional.empty();
            String ref = head.substring(4).strip();
            for (Path base : List.of(gitDir, common)) {
                Path loose = base.resolve(ref);
                if (Files.isRegularFile(loose)) {
                    String sha = Files.readString(loose).strip();
                    if (SHA.matcher(sha).matches()) return Optional.of(sha);
                }
            }
            Path packed = common.resolve("packed-refs");
            if (Files.isRegularFile(packed)) {
                for (String line : Files.readAllLines(packed, StandardCharsets.UTF_8)) {
                    String[] parts = line.split(" ", 2);
                    if (parts.length == 2 && parts[1].strip().equals(ref) && SHA.matcher(parts[0]).matches()) return Optional.of(parts[0]);
                }
            }
            return Optional.empty(); // a branch with no commit yet
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Uncommitted changes to tracked files, asked of git; null when git is absent or does not answer. */
    private static Boolean dirty(Path top) {
        try {
            Process p = new ProcessBuilder("git", "-C", top.toString(), "status", "--porcelain", "--untracked-files=no")
                    .redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            return p.exitValue() == 0 ? out.length > 0 : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
