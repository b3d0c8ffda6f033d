package dev.finadvisor.training.sft;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.config.ConfigLoader;
import dev.finadvisor.domain.prompt.PromptTemplate;
import dev.finadvisor.domain.prompt.PromptTemplates;
import dev.finadvisor.domain.qa.QaCleaner;
import dev.finadvisor.domain.qa.QaDataset;
import dev.finadvisor.domain.qa.QaSample;
import dev.finadvisor.domain.qa.QaSplit;
import dev.finadvisor.domain.runs.RunLayout;
import dev.finadvisor.llm.LanguageModel;
import dev.finadvisor.llm.hub.ModelLocator;
import dev.finadvisor.llm.lora.LoraConfig;
import dev.finadvisor.llm.lora.LoraLayers;
import dev.finadvisor.llm.lora.PeftAdapter;
import dev.finadvisor.llm.lowbit.WeightFormat;
import dev.finadvisor.llm.lowbit.MemoryCheck;
import dev.finadvisor.llm.model.ModelConfig;
import dev.finadvisor.llm.safetensors.SafetensorsShards;
import dev.finadvisor.llm.model.ProjectionLoader;
import dev.finadvisor.llm.model.TrainingPass;
import dev.finadvisor.llm.quant.LayerwiseBackward;
import dev.finadvisor.llm.quant.Nf4;
import dev.finadvisor.llm.quant.Nf4Quantizer;
import dev.finadvisor.llm.train.CheckpointedPass;
import dev.finadvisor.training.eval.EvalReport;
import dev.finadvisor.training.eval.Evaluation;
import dev.finadvisor.training.eval.Evaluator;
import dev.finadvisor.training.tracking.RunSpec;
import dev.finadvisor.training.tracking.RunTracker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * A whole fine-tuning run: loads and splits the Q&A data, tokenises it with the template, loads
 * the base model (NF4 for QLoRA), attaches LoRA, trains, and writes the run directory with the
 * final adapter in PEFT format ({@code adapter/}: the best checkpoint's when load_best_model_at_end).
 */
public final class SftJob {
    /** The run's outcome; {@code adapterDir} is null when a signal stopped the run early (resumable from its last checkpoint). */
    public record Outcome(Path runDir, Path adapterDir, TrainerState state, ExampleBuilder.Stats trainStats, Nf4Quantizer.Report quantization) {}

    /** How long Ctrl-C or SIGTERM waits for the step under way to finish and be saved before the JVM exits anyway. */
    static final Duration STOP_WAIT = Duration.ofMinutes(5);

    private final ConfigLoader.Loaded<SftConfig> loaded;
    private final Consumer<String> say;
    private final ModelLocator locator = ModelLocator.fromEnvironment(); // model.id: a folder or a hub id (downloaded once)

    /** {@code say} receives the few lines a user should see (data statistics, where the run is). */
    public SftJob(ConfigLoader.Loaded<SftConfig> loaded, Consumer<String> say) {
        this.loaded = loaded;
        this.say = say;
    }

    /** Dotted keys whose values differ between a run's config.yaml and {@code now} (each key as key=old->new). */
    static List<String> changedKeys(Path configYaml, JsonNode now) {
        JsonNode before;
        try {
            before = new ObjectMapper(new YAMLFactory()).readTree(configYaml.toFile());
        } catch (IOException e) {
            return List.of(configYaml + " unreadable (" + e.getMessage() + ")");
        }
        Map<String, String> a = new TreeMap<>();
        Map<String, String> b = new TreeMap<>();
        flatten("", before, a);
        flatten("", now, b);
        Set<String> keys = new TreeSet<>(a.keySet());
        keys.addAll(b.keySet());
        List<String> out = new ArrayList<>();
        for (String k : keys) {
            if (!Objects.equals(a.get(k), b.get(k))) out.add(k + "=" + a.get(k) + "->" + b.get(k));
        }
        return out;
    }

    /**
     * The configuration with its local paths made absolute (a hub id stays as it is), as config.yaml records it:
     * {@code --resume} from another working folder then finds the same files.
     */
    static ObjectNode absolutePaths(ObjectNode tree) {
        ObjectNode out = tree.deepCopy();
        for (String key : List.of("model.id", "data.train", "data.validation", "output_dir")) {
            String[] parts = key.split("\\.");
            JsonNode parent = parts.length == 1 ? out : out.path(parts[0]);
            String name = parts[parts.length - 1];
            if (!(parent instanceof ObjectNode node) || !node.path(name).isTextual()) continue;
            String value = node.get(name).asText();
            if (value.isBlank() || key.equals("model.id") && ModelLocator.isHubId(value)) continue;
            node.put(name, Path.of(value).toAbsolutePath().normalize().toString());
        }
        return out;
    }

    private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
        if (node != null && node.isObject()) {
            for (var f : node.properties()) flatten(prefix.isEmpty() ? f.getKey() : prefix + "." + f.getKey(), f.getValue(), out);
        } else if (node != null && !node.isMissingNode()) {
            out.put(prefix, node.isValueNode() ? node.asText() : node.toString());
        }
    }

    /**
     * {@code eval.after_training}: the final adapter on the held-out samples, scored as {@code finadvisor eval} scores
     * it, the report written to {@code RUN/eval/}. Returns the metrics to record with the run, but for {@code loss}: the
     * run's own (the last training loss) keeps that name; the held-out answer loss is {@code eval_loss} already.
     */
    private Map<String, Double> evaluate(SftConfig c, Path modelDir, PromptTemplate template, List<QaSample> heldOut, PeftAdapter adapter,
                                         Path runDir) {
        if (heldOut.isEmpty()) {
            say.accept("eval.after_training: no held-out samples (data.validation, data.validation_fraction): nothing evaluated");
            return Map.of();
        }
        SftConfig.Eval e = c.eval();
        List<QaSample> samples = e.max_samples() > 0 && heldOut.size() > e.max_samples() ? heldOut.subList(0, e.max_samples()) : heldOut;
        WeightFormat weights = e.weights().equals("auto") && c.quantization().equals("nf4") ? WeightFormat.NF4
                : WeightFormat.parse(e.weights(), "eval.weights");
        Evaluator.Settings settings = new Evaluator.Settings(e.max_new_tokens(), e.repetition_penalty(), c.model().max_seq_length());
        Evaluation.Result r;
        try (LanguageModel model = LanguageModel.load(modelDir, weights)) {
            r = Evaluation.run(model, adapter, false, template, settings, samples, null, () -> false);
        }
        Map<String, Object> about = EvalReport.about(modelDir.toString(), new RunLayout(runDir).adapter().toString(),
                new RunLayout(runDir).validation().toString(), samples.size(), template.name(), weights, settings, null);
        Path html = EvalReport.write(runDir.resolve("eval"), about, samples, r);
        Map<String, Double> metrics = new LinkedHashMap<>(r.metrics().get(Evaluation.ADAPTER));
        metrics.remove("loss");
        metrics.values().removeIf(v -> v.isNaN() || v.isInfinite());
        say.accept(String.format(Locale.ROOT, "eval.after_training on %d held-out samples: rouge_l %.4f, perplexity %.4f; report %s",
                samples.size(), metrics.getOrDefault("rouge_l", Double.NaN), metrics.getOrDefault("perplexity", Double.NaN), html));
        return metrics;
    }

    /** Runs it; {@code resumeRunDir} (may be null) continues a run from its latest checkpoint. */
    public Outcome run(Path resumeRunDir) {
        SftConfig c = loaded.value();
        Path modelDir = locator.resolve(c.model().id(), "model.id");
        if (!Files.isRegularFile(modelDir.resolve("config.json"))) {
            throw new UserError("model.id '" + c.model().id() + "' is not a checkpoint folder with config.json");
        }
        int context = ModelConfig.load(modelDir).maxPositions();
        if (c.model().max_seq_length() > context) { // found before any work: training would stop at its first long example
            throw new UserError("model.max_seq_length " + c.model().max_seq_length() + " exceeds the context of " + c.model().id()
                    + " (" + context + " positions in its config.json); set it to at most " + context);
        }
        try (SafetensorsShards header = SafetensorsShards.open(modelDir)) { // before any weight is read: refuse what cannot fit
            TrainMemory memory = TrainMemory.estimate(header, ModelConfig.load(modelDir), c);
            memory.check(modelDir, c, MemoryCheck.availableMemory());
            say.accept("memory: " + memory.describe());
        }
        if (c.training().gradient_checkpointing() && c.lora().dropout() > 0 && "engine".equals(System.getProperty("finadvisor.dropout"))) {
            throw new UserError("training.gradient_checkpointing needs dropout masks that can be drawn again: drop -Dfinadvisor.dropout=engine "
                    + "or set lora.dropout=0");
        }
        PromptTemplate template = PromptTemplates.byName(c.model().template(), modelDir);
        List<QaSample> all = QaDataset.load(Path.of(c.data().train()));
        List<QaSample> validationFile = c.data().validation() != null ? QaDataset.load(Path.of(c.data().validation())) : null;
        String cleaning = "data.clean: false, sample text used as it is";
        if (c.data().clean()) {
            // before templating: the template's markers must meet the text, not the file's stray newlines and spaces
            QaCleaner.Result cleaned = QaCleaner.clean(all);
            all = cleaned.samples();
            cleaning = "data.clean: " + cleaned.changed() + " of " + all.size() + " training samples changed by QaCleaner";
            if (validationFile != null) {
                QaCleaner.Result v = QaCleaner.clean(validationFile);
                validationFile = v.samples();
                cleaning += ", " + v.changed() + " of " + validationFile.size() + " validation samples";
            }
        }
        say.accept(cleaning);
        QaSplit split = validationFile != null
                ? new QaSplit(all, validationFile)
                : c.data().validation_fraction() > 0 ? QaSplit.of(all, c.data().validation_fraction(), c.training().seed())
                : new QaSplit(all, List.of());

        RunTracker tracker;
        Path resumeFrom = null;
        if (resumeRunDir != null) {
            if (!Files.isRegularFile(new RunLayout(resumeRunDir).runJson())) {
                throw new UserError("--resume " + resumeRunDir + ": not a run folder (no " + RunLayout.RUN + ")");
            }
            Checkpoints existing = new Checkpoints(new RunLayout(resumeRunDir).checkpoints());
            int latest = existing.latest().orElseThrow(() -> new UserError("--resume " + resumeRunDir
                    + ": no checkpoint in " + existing.root() + " to resume from"));
            resumeFrom = existing.dirFor(latest);
            Checkpoints.verify(resumeFrom); // before the run is reopened and the model loaded
            // Reopens the run: run.json says running again (this process), metrics after the checkpoint go.
            tracker = RunTracker.resume(resumeRunDir, latest);
            List<String> changed = changedKeys(new RunLayout(resumeRunDir).config(), absolutePaths(loaded.tree()));
            if (!changed.isEmpty()) {
                // config.yaml keeps what the run started with; the log says what the resumed part used instead
                String line = "resumed with settings that differ from " + RunLayout.CONFIG + ": " + String.join(", ", changed);
                tracker.note(line);
                say.accept(line);
            }
        } else {
            tracker = RunTracker.start(new RunSpec(Path.of(c.output_dir()), "sft", absolutePaths(loaded.tree()), modelDir,
                    Path.of(c.data().train()), "PyTorch " + Engine.getEngine("PyTorch").getVersion(), "cpu()"));
        }
        Path runDir = tracker.dir();
        Path heldOut = new RunLayout(runDir).validation();
        if (!split.validation().isEmpty() && !Files.exists(heldOut)) QaDataset.write(heldOut, split.validation()); // for `eval --data`
        Checkpoints checkpoints = new Checkpoints(tracker.checkpointsDir());
        say.accept("run directory: " + runDir);
        try {
            SftTrainer.Result result;
            ExampleBuilder.Stats s;
            Nf4Quantizer.Report report;
            try (NDManager manager = NDManager.newBaseManager(); Nf4 nf4 = c.quantization().equals("nf4") ? new Nf4(manager) : null;
                 // QLoRA: each projection quantised as it is read, so the fp32 base is never whole in memory
                 LanguageModel model = LanguageModel.load(modelDir, nf4 == null ? ProjectionLoader.DENSE : Nf4Quantizer.whileLoading(nf4))) {
                ExampleBuilder builder = new ExampleBuilder(model.tokenizer(), template, c.model().max_seq_length());
                // packed, a long sample spans blocks instead of being cut
                ExampleBuilder.Built train = (c.data().packing() ? new ExampleBuilder(model.tokenizer(), template, Integer.MAX_VALUE) : builder)
                        .build(split.train());
                ExampleBuilder.Built validation = builder.build(split.validation());
                s = train.stats();
                say.accept(String.format("train: %d samples -> %d examples, %d tokens (%d answer tokens), %d truncated to max_seq_length %d, %d dropped (answer cut off); validation: %d examples",
                        s.samples(), s.examples(), s.tokens(), s.answerTokens(), s.truncated(), c.model().max_seq_length(), s.droppedNoAnswer(),
                        validation.examples().size()));
                if (train.examples().isEmpty()) throw new UserError(c.data().train() + ": no training example has an answer token within max_seq_length " + c.model().max_seq_length());
                List<Example> trainExamples = train.examples();
                if (c.data().packing()) {
                    List<Integer> eos = model.tokenizer().eosIds();
                    if (eos.isEmpty()) throw new UserError("data.packing: the tokenizer of " + modelDir + " has no end-of-sequence token to separate packed examples");
                    Packing.Packed packed = Packing.pack(trainExamples, c.model().max_seq_length(), eos.get(0));
                    trainExamples = packed.blocks();
                    String line = String.format("data.packing: %d examples + EOS = %d tokens -> %d blocks of up to %d tokens (%d without an answer token dropped)",
                            packed.examples(), packed.tokens(), packed.blocks().size(), c.model().max_seq_length(), packed.droppedWithoutAnswer());
                    say.accept(line);
                    tracker.note(line);
                    if (trainExamples.isEmpty()) throw new UserError(c.data().train() + ": packing left no block with an answer token");
                }
                tracker.note(cleaning);
                tracker.note(s.toString());
                report = nf4 == null ? null : Nf4Quantizer.Report.of(model.model());
                if (report != null) {
                    say.accept(String.format("QLoRA: %d linear layers in NF4, %.3f bytes per base weight", report.layers(), report.bytesPerParameter()));
                }
                LoraConfig loraConfig = new LoraConfig(c.lora().r(), c.lora().alpha(), c.lora().dropout(), c.lora().target_modules(),
                        ModelLocator.peftName(c.model().id()), c.model().template());
                LoraLayers lora = LoraLayers.attach(loraConfig, model.model(), c.training().seed());
                say.accept(String.format("LoRA r=%d alpha=%s on %d layers (%s): %,d trainable parameters", loraConfig.r(), loraConfig.alpha(),
                        lora.layers().size(), String.join(", ", lora.config().targetModules()), lora.trainableParameters()));
                // gradient checkpointing holds one decoder layer's activations (and dequantised NF4 weights) at a time;
                // without it, QLoRA still holds one decoder layer's dequantised weights at a time, not every layer's
                boolean checkpointing = c.training().gradient_checkpointing();
                LayerwiseBackward layerwise = nf4 == null || checkpointing ? null : new LayerwiseBackward(model.model(), manager);
                TrainingPass pass = checkpointing ? new CheckpointedPass(model.model())
                        : layerwise != null ? layerwise : TrainingPass.whole(model.model());
                SftTrainer trainer = new SftTrainer(pass, lora, trainExamples, validation.examples(),
                        new SftTrainer.Settings(c.training(), Math.max(0, model.tokenizer().padId())), checkpoints,
                        tracker, manager);
                // Ctrl-C, SIGTERM: end after the step under way, with a checkpoint of it
                try (RunTracker.WindDown windDown = tracker.stopOnJvmExit("stopping: the step under way finishes and is saved as a checkpoint (waiting up to "
                        + STOP_WAIT.toMinutes() + " min; kill -9 stops now and loses what came after the last checkpoint)", trainer::requestStop, STOP_WAIT)) {
                    result = trainer.run(resumeFrom);
                    if (layerwise != null) layerwise.close();
                    if (result.stopped()) {
                        String line = "stopped after step " + result.state().step() + " of " + result.state().totalSteps() + ", saved as "
                                + result.lastCheckpoint().getFileName() + ": continue with `finadvisor train --resume " + runDir + "`";
                        say.accept(line);
                        tracker.kill(line); // before the signal's hook goes on: this says more than its own reason
                        return new Outcome(runDir, null, result.state(), s, report);
                    }
                }
            } // the training model is closed: an evaluation after training has its memory
            Path adapterDir = new RunLayout(runDir).adapter();
            Path source = c.training().load_best_model_at_end() && result.bestCheckpoint() != null ? result.bestCheckpoint() : result.lastCheckpoint();
            Checkpoints.verify(source); // the final adapter comes from a checkpoint: as checked as a resume
            Checkpoints.deleteTree(adapterDir);
            PeftAdapter.copy(source, adapterDir); // the files themselves: not held again on the heap beside the freed training memory
            tracker.note("adapter from " + source);
            tracker.artifact("adapter", adapterDir); // recorded anew: a resumed run may carry an older record
            say.accept("adapter (PEFT format) in " + adapterDir + " from " + source.getFileName());
            Map<String, Double> finals = new LinkedHashMap<>();
            if (result.state().bestStep() >= 0) finals.put("eval_loss", result.state().bestEvalLoss());
            finals.put("loss", result.lastLoss());
            if (c.eval().after_training()) {
                try {
                    finals.putAll(evaluate(c, modelDir, template, split.validation(), PeftAdapter.read(adapterDir), runDir));
                } catch (RuntimeException e) { // the training itself went well: the run finishes, the failure is told
                    String line = "eval.after_training failed, the run keeps its training metrics: " + e.getMessage();
                    say.accept(line);
                    tracker.note(line);
                }
            }
            tracker.finish(finals);
            return new Outcome(runDir, adapterDir, result.state(), s, report);
        } catch (IOException e) {
            tracker.fail(e);
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            tracker.fail(e);
            throw e;
        } finally {
            tracker.close();
        }
    }
}
