package dev.finadvisor.training.tracking;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.runs.AtomicFiles;
import dev.finadvisor.domain.runs.FileRef;
import dev.finadvisor.domain.runs.ModelVersion;
import dev.finadvisor.domain.runs.Registry;
import dev.finadvisor.domain.runs.RegistryLayout;
import dev.finadvisor.domain.runs.RegistryRef;
import dev.finadvisor.domain.runs.Run;
import dev.finadvisor.domain.runs.RunJson;
import dev.finadvisor.domain.runs.RunStatus;
import dev.finadvisor.domain.runs.Sha256;
import dev.finadvisor.domain.util.LockFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Writes the model registry: {@link #push} registers a finished run's adapter as the next version,
 * {@link #promote} points an alias at a version. A version appears complete or not at all (copied
 * into a hidden staging folder, then renamed); version numbers and aliases change under the
 * model's lock, so concurrent pushes from threads or processes get distinct numbers.
 */
public final class RegistryWriter {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(RegistryWriter.class);
    /** The file every PEFT adapter folder holds. */
    public static final String ADAPTER_CONFIG = "adapter_config.json";

    private final RegistryLayout layout;
    private final Registry reader;
    private final Clock clock;

    public RegistryWriter(Path root) {
        this(root, Clock.systemUTC());
    }

    RegistryWriter(Path root, Clock clock) {
        this.layout = new RegistryLayout(root);
        this.reader = new Registry(root);
        this.clock = clock;
    }

    /** Registers the run's adapter under {@code name} as version max+1 and returns its model.json. */
    @SuppressWarnings("try") // the lock is held for the block, not used in it
    public ModelVersion push(Run run, String name) {
        RegistryRef.checkName(name);
        if (run.status() != RunStatus.FINISHED) {
            throw new UserError("run " + run.id() + " is " + run.status().json()
                    + (run.statusNote() == null ? "" : " (" + run.statusNote() + ")") + ": only finished runs can be registered");
        }
        Path adapter = run.layout().adapter();
        if (!Files.isDirectory(adapter)) throw new UserError(adapter + ": missing; run " + run.id() + " saved no adapter to register");
        if (!Files.isRegularFile(adapter.resolve(ADAPTER_CONFIG))) {
            throw new UserError(adapter + ": no " + ADAPTER_CONFIG + ", so not a PEFT adapter folder");
        }
        if (run.info().baseModel() == null) throw new UserError(run.layout().runJson() + ": missing field 'base_model' (the registry needs to know what the adapter applies to)");
        Path versions = layout.versions(name);
        Path staging = versions.resolve(".staging-" + UUID.randomUUID());
        try {
            Files.createDirectories(versions);
            Files.createDirectory(staging);
            Path copied = staging.resolve(RegistryLayout.ADAPTER);
            copyTree(adapter, copied);
            String sha = Sha256.hex(copied);
            FileRef recorded = run.info().artifacts().get("adapter");
            if (recorded != null && !recorded.sha256().equals(sha)) {
                throw new UserError(adapter + ": its content changed since the run recorded it (sha256 " + recorded.sha256()
                        + " in run.json, now " + sha + "); not registering a different adapter than the run produced");
            }
            FileRef adapterRef = new FileRef(RegistryLayout.ADAPTER, sha, Sha256.of(copied).bytes());
            try (LockFile lock = LockFile.acquire(layout.lock(name))) {
                List<Integer> existing = reader.versionNumbers(name);
                int version = existing.isEmpty() ? 1 : existing.get(existing.size() - 1) + 1;
                ModelVersion model = new ModelVersion(1, name, version, clock.instant(), adapterRef, run.info().baseModel(),
                        run.info().dataset(), run.id(), run.layout().dir().toAbsolutePath().normalize().toString(),
                        run.info().gitCommit(), run.info().finalMetrics());
                AtomicFiles.write(staging.resolve(RegistryLayout.MODEL), RunJson.pretty(model));
                AtomicFiles.move(staging, layout.version(name, version));
                return model;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot register run " + run.id() + " as " + name + " in " + layout.root() + ": " + e.getMessage(), e);
        } finally {
            deleteTree(staging);
        }
    }

    /** Points {@code alias} at {@code version} of {@code name} (moving it if it pointed elsewhere); returns the previous version or null. */
    @SuppressWarnings("try") // the lock is held for the block, not used in it
    public Integer promote(String name, int version, String alias) {
        RegistryRef.checkAlias(alias);
        reader.version(name, version); // exists and reads
        try (LockFile lock = LockFile.acquire(layout.lock(name))) {
            Map<String, Integer> aliases = new LinkedHashMap<>(reader.aliases(name));
            Integer previous = aliases.put(alias, version);
            AtomicFiles.write(layout.aliases(name), RunJson.pretty(aliases));
            return previous;
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(to.resolve(from.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.COPY_ATTRIBUTES);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Removes a staging folder left by a failed push or run start; readers ignore it anyway, so failing to is only logged. */
    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            log.warn("cannot remove the staging folder {}: {}", dir, e.toString());
        }
    }
}
