package dev.finadvisor.training.sft;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finadvisor.domain.UserError;
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
 * format (usable as is), {@code optimizer.safetensors} (AdamW moments) and {@code trainer_state.json}.
 * Each is written into a temporary folder and renamed into place, so a crash leaves either the
 * whole checkpoint or none; rotation keeps the newest {@code limit} plus the best.
 */
public final class Checkpoints {
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    public static final String STATE_FILE = "trainer_state.json";
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

    /** Writes checkpoint-{step} atomically and returns its folder. */
    public Path save(TrainerState state, PeftAdapter adapter, Map<String, NDArray> optimizer, long optimizerSteps) {
        try {
            Files.createDirectories(root);
            Path target = dirFor(state.step());
            Path tmp = root.resolve("." + PREFIX + state.step() + ".tmp");
            deleteTree(tmp);
            Files.createDirectories(tmp);
            adapter.write(tmp);
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

    /** Reads checkpoint folder {@code dir}; a missing or damaged part is an error naming the file. */
    public static Loaded load(Path dir) {
        Path stateFile = dir.resolve(STATE_FILE);
        JsonNode s;
        try {
            s = JSON.readTree(stateFile.toFile());
        } catch (IOException e) {
            throw new UserError(stateFile + ": cannot read the trainer state (" + e.getMessage() + "); is " + dir + " a checkpoint folder?");
        }
        TrainerState state = new TrainerState(s.path("global_step").asInt(), s.path("max_steps").asInt(),
                s.has("best_metric") ? s.get("best_metric").asDouble() : Double.POSITIVE_INFINITY, s.path("best_step").asInt(-1));
        PeftAdapter adapter = PeftAdapter.read(dir);
        Map<String, float[]> moments = new LinkedHashMap<>();
        long steps;
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(OPTIMIZER_FILE))) {
            for (TensorInfo t : f.tensors()) moments.put(t.name(), f.readFloats(t.name()));
            steps = Long.parseLong(f.metadata().getOrDefault("steps", "0"));
        }
        return new Loaded(dir, state, adapter, moments, steps);
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
