package dev.finadvisor.training.sft;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.runs.Sha256;
import dev.finadvisor.llm.lora.PeftAdapter;
import dev.finadvisor.llm.safetensors.SafetensorsFile;
import dev.finadvisor.llm.safetensors.SafetensorsWriter;
import dev.finadvisor.llm.safetensors.TensorInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The {@code checkpoints/} folder of a run: {@code checkpoint-<step>/} holds the adapter in PEFT
 * format (usable as is), {@code optimizer.safetensors} (AdamW moments), {@code trainer_state.json} and
 * {@code checksums.json} (the SHA-256 of each of those files). Each is written into a temporary folder and
 * renamed into place, so a crash leaves either the whole checkpoint or none; loading checks the checksums,
 * so a file changed since (a bit flip, an edit) is refused rather than resumed into a different curve;
 * rotation keeps the newest {@code limit} plus the best.
 */
public final class Checkpoints {
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    public static final String STATE_FILE = "trainer_state.json";
    public static final String CHECKSUMS_FILE = "checksums.json";
    private static final String PREFIX = "checkpoint-";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A checkpoint read back: its state, adapter and optimizer moments. */
    public record Loaded(Path dir, TrainerState state, PeftAdapter adapter, Map<String, float[]> optimizer, long optimizerSteps) {}

    private final Path root;

    public Checkpoints(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    public Path dirFor(int step) {
        return root.resolve(PREFIX + step);
    }

    /** What a checkpoint holds besides the optimizer and the state: the adapter (fine-tuning) or the whole model (pretraining). */
    public interface Weights {
        void writeTo(Path dir) throws IOException;
    }

    /** Writes checkpoint-{step} atomically, {@code weights} beside the optimizer's moments and the state, and returns its folder. */
    public Path save(TrainerState state, Weights weights, Map<String, NDArray> optimizer, long optimizerSteps) {
        try {
            Files.createDirectories(root);
            Path target = dirFor(state.step());
            Path tmp = root.resolve("." + PREFIX + state.step() + ".tmp");
            deleteTree(tmp);
            Files.createDirectories(tmp);
            weights.writeTo(tmp);
            SafetensorsWriter writer = new SafetensorsWriter().metadata("optimizer", "adamw")
                    .metadata("steps", Long.toString(optimizerSteps));
            optimizer.forEach(writer::add);
            writer.write(tmp.resolve(OPTIMIZER_FILE));
            ObjectNode s = JSON.createObjectNode();
            s.put("global_step", state.step());
            s.put("max_steps", state.totalSteps());
            if (state.bestStep() >= 0) {
                s.put("best_metric", state.bestEvalLoss());
                s.put("best_step", state.bestStep());
            }
            Files.write(tmp.resolve(STATE_FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(s));
            ObjectNode sums = JSON.createObjectNode();
            try (Stream<Path> files = Files.list(tmp)) {
                for (Path f : files.sorted().toList()) sums.put(f.getFileName().toString(), Sha256.hex(f));
            }
            Files.write(tmp.resolve(CHECKSUMS_FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(sums));
            if (Files.exists(target)) { // re-saving a step after a resume: swap, never leave a gap
                Path old = root.resolve("." + PREFIX + state.step() + ".old");
                deleteTree(old);
                Files.move(target, old);
                move(tmp, target);
                deleteTree(old);
            } else {
                move(tmp, target);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + state.step() + " under " + root + ": " + e.getMessage(), e);
        }
    }

    /** Steps of the complete checkpoints present, ascending. */
    public List<Integer> steps() {
        if (!Files.isDirectory(root)) return List.of();
        try (Stream<Path> s = Files.list(root)) {
            List<Integer> steps = new ArrayList<>();
            s.forEach(p -> {
                String name = p.getFileName().toString();
                if (name.startsWith(PREFIX) && name.substring(PREFIX.length()).matches("\\d+") && Files.isDirectory(p)) {
                    steps.add(Integer.parseInt(name.substring(PREFIX.length())));
                }
            });
            steps.sort(Comparator.naturalOrder());
            return steps;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Optional<Integer> latest() {
        List<Integer> steps = steps();
        return steps.isEmpty() ? Optional.empty() : Optional.of(steps.get(steps.size() - 1));
    }

    /** Deletes all but the newest {@code limit} checkpoints and the one at {@code bestStep} (if any). */
    public void rotate(int limit, int bestStep) {
        List<Integer> steps = steps();
        for (int i = 0; i < steps.size() - limit; i++) {
            int step = steps.get(i);
            if (step != bestStep) {
                try {
                    deleteTree(dirFor(step));
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot delete old checkpoint " + dirFor(step) + ": " + e.getMessage(), e);
                }
            }
        }
    }

    /** Reads checkpoint folder {@code dir}; a missing, damaged or changed part is an error naming the file. */
    public static Loaded load(Path dir) {
        Loaded l = loadState(dir);
        return new Loaded(dir, l.state(), PeftAdapter.read(dir), l.optimizer(), l.optimizerSteps());
    }

    /** {@link #load} but for the weights (null adapter): the state and the optimizer's moments of a checkpoint, checked. */
    public static Loaded loadState(Path dir) {
        verify(dir);
        Path stateFile = dir.resolve(STATE_FILE);
        JsonNode s;
        try {
            s = JSON.readTree(stateFile.toFile());
        } catch (IOException e) {
            throw new UserError(stateFile + ": cannot read the trainer state (" + e.getMessage() + "); is " + dir + " a checkpoint folder?");
        }
        if (s == null || !s.path("global_step").isInt() || s.get("global_step").asInt() < 0) {
            throw new UserError(stateFile + ": no global_step (a whole number of steps); the file is not a finadvisor trainer state");
        }
        TrainerState state = new TrainerState(s.path("global_step").asInt(), s.path("max_steps").asInt(),
                s.has("best_metric") ? s.get("best_metric").asDouble() : Double.POSITIVE_INFINITY, s.path("best_step").asInt(-1));
        Map<String, float[]> moments = new LinkedHashMap<>();
        long steps;
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(OPTIMIZER_FILE))) {
            for (TensorInfo t : f.tensors()) moments.put(t.name(), f.readFloats(t.name()));
            steps = Long.parseLong(f.metadata().getOrDefault("steps", "0"));
        }
        return new Loaded(dir, state, null, moments, steps);
    }

    /**
     * Checks every file {@code checksums.json} lists against its SHA-256 (checkpoints written before checksums existed
     * have none: nothing to check). A mismatch names the file and the earlier checkpoints to resume from instead.
     */
    public static void verify(Path dir) {
        Path sumsFile = dir.resolve(CHECKSUMS_FILE);
        if (!Files.exists(sumsFile)) return;
        JsonNode sums;
        try {
            sums = JSON.readTree(sumsFile.toFile());
        } catch (IOException e) {
            throw new UserError(sumsFile + ": cannot read the checksums (" + e.getMessage() + ")" + earlier(dir));
        }
        if (sums == null || !sums.isObject() || sums.isEmpty()) throw new UserError(sumsFile + ": holds no checksums" + earlier(dir));
        for (var e : sums.properties()) {
            Path f = dir.resolve(e.getKey());
            if (!Files.isRegularFile(f)) throw new UserError(f + ": missing from the checkpoint" + earlier(dir));
            if (!Sha256.hex(f).equals(e.getValue().asText())) {
                throw new UserError(f + ": does not match the checksum written with it (the file changed after it was saved: a disk"
                        + " error or an edit); resuming from it would not continue the same run" + earlier(dir));
            }
        }
    }

    /** What to do instead of resuming from a damaged {@code dir}: the checkpoints before it, if any. */
    private static String earlier(Path dir) {
        String name = dir.getFileName().toString();
        if (!name.startsWith(PREFIX) || !name.substring(PREFIX.length()).matches("\\d+")) return "";
        int step = Integer.parseInt(name.substring(PREFIX.length()));
        List<Integer> before = new Checkpoints(dir.getParent()).steps().stream().filter(st -> st < step).toList();
        if (before.isEmpty()) return "; no earlier checkpoint exists: start the run again";
        return "; earlier checkpoints: " + before.stream().map(st -> PREFIX + st).toList()
                + " (move " + name + " out of " + dir.getParent() + " and --resume continues from " + PREFIX + before.get(before.size() - 1) + ")";
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    /** Deletes a scratch folder, ignoring what cannot be deleted. */
    public static void deleteTreeQuietly(Path dir) {
        try {
            deleteTree(dir);
        } catch (IOException e) {
            // scratch space: the OS cleans temp folders
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
