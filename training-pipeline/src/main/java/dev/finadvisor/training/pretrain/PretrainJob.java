package dev.finadvisor.training.pretrain;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.config.ConfigLoader;
import dev.finadvisor.domain.util.Progress;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.model.CausalLM;
import dev.finadvisor.llm.safetensors.Dtype;
import dev.finadvisor.llm.safetensors.SafetensorsWriter;
import dev.finadvisor.llm.tokenizer.Tokenizer;
import dev.finadvisor.llm.train.AdamW;
import dev.finadvisor.llm.train.GradientClipping;
import dev.finadvisor.llm.train.LrSchedule;
import dev.finadvisor.llm.train.TokenCrossEntropy;
import dev.finadvisor.training.dataset.Corpus;
import dev.finadvisor.training.sft.Checkpoints;
import dev.finadvisor.training.sft.SftTrainer;
import dev.finadvisor.training.sft.TrainerState;
import dev.finadvisor.domain.runs.RunLayout;
import dev.finadvisor.training.tracking.RunSpec;
import dev.finadvisor.training.tracking.RunTracker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Pretraining from scratch: a small Llama (the shape in {@code model}, the vocabulary of {@code model.tokenizer}) with
 * every weight trainable learns next-token prediction on a corpus. The documents are tokenised (BOS first, as a prompt
 * is), each followed by EOS, into one stream; its last {@code validation_fraction} is held out. A step is {@code batch_size} blocks of
 * {@code max_seq_length + 1} tokens from seeded random offsets, the loss the mean cross-entropy over every position;
 * AdamW (betas 0.9, 0.95), linear warmup then cosine decay, global-norm clipping. The run is tracked like a fine-tuning
 * run (metrics.jsonl, run.json); at the end {@code RUN/model/} holds a Hugging Face checkpoint (config.json, safetensors,
 * the tokenizer) that generate, train and serve load as a base model.
 */
public final class PretrainJob {
    /**
     * How the run ended: its folder, the model folder (null when it was stopped: its last checkpoint then holds the state),
     * validation loss before this process's first step and after its last, the steps done.
     */
    public record Outcome(Path runDir, Path modelDir, double firstEvalLoss, double lastEvalLoss, int steps) {
        public boolean stopped() {
            return modelDir == null;
        }
    }

    /** How long Ctrl-C or SIGTERM waits for the step under way to finish and be saved. */
    static final java.time.Duration STOP_WAIT = java.time.Duration.ofMinutes(5);
    private static final List<String> STATE_FILES = List.of(Checkpoints.OPTIMIZER_FILE, Checkpoints.STATE_FILE, Checkpoints.CHECKSUMS_FILE);
    private volatile boolean stopRequested;

    private final ConfigLoader.Loaded<PretrainConfig> loaded;
    private final Consumer<String> say;

    public PretrainJob(ConfigLoader.Loaded<PretrainConfig> loaded, Consumer<String> say) {
        this.loaded = loaded;
        this.say = say;
    }

    /** Ends a running {@link #run} after the step under way, with a checkpoint of it (callable from any thread). */
    public void requestStop() {
        stopRequested = true;
    }

    /** Trains from the start, or continues the run in {@code resumeRunDir} (may be null) from its latest checkpoint. */
    public Outcome run(Path resumeRunDir) {
        PretrainConfig c = loaded.value();
        PretrainConfig.Model m = c.model();
        PretrainConfig.Training t = c.training();
        Path tokenizerDir = Path.of(m.tokenizer());
        if (!Files.isRegularFile(tokenizerDir.resolve("tokenizer.json"))) {
            throw new UserError("model.tokenizer " + tokenizerDir + ": no tokenizer.json there (make one with finadvisor tokenizer train)");
        }
        int[] stream;
        int vocab;
        try (Tokenizer tok = Tokenizer.load(tokenizerDir)) {
            if (tok.eosIds().isEmpty()) throw new UserError("model.tokenizer " + tokenizerDir + ": no end-of-sequence token to separate documents");
            vocab = tok.vocabSize();
            stream = tokens(Corpus.documents(c.data().corpus().stream().map(Path::of).toList(), "data.corpus"), tok, tok.eosIds().get(0));
        }
        int block = m.max_seq_length() + 1;
        int held = (int) Math.round(stream.length * c.data().validation_fraction());
        int trainEnd = stream.length - held;
        if (trainEnd < block) {
            throw new UserError("data.corpus: " + trainEnd + " training tokens, fewer than one block of model.max_seq_length + 1 = " + block
                    + "; give more text or a smaller model.max_seq_length");
        }
        int validationBlocks = Math.min(t.eval_blocks(), held / block);
        if (held > 0 && validationBlocks == 0) {
            throw new UserError("data.validation_fraction " + c.data().validation_fraction() + " holds out " + held + " tokens, less than one block of "
                    + block + "; raise it, or set it to 0 for no validation");
        }
        say.accept(String.format(Locale.ROOT, "corpus: %,d tokens (vocabulary %,d): %,d to train on, %,d held out (%d validation blocks of %d)",
                stream.length, vocab, trainEnd, held, validationBlocks, block));

        Path resumeFrom = null;
        RunTracker tracker;
        if (resumeRunDir != null) {
            Checkpoints existing = new Checkpoints(new RunLayout(resumeRunDir).checkpoints());
            int latest = existing.latest().orElseThrow(() -> new UserError("--resume " + resumeRunDir + ": no checkpoint in "
                    + existing.root() + " to continue from"));
            resumeFrom = existing.dirFor(latest);
            Checkpoints.verify(resumeFrom);
            tracker = RunTracker.resume(resumeRunDir, latest);
        } else {
            tracker = RunTracker.start(new RunSpec(Path.of(c.output_dir()), "pretrain", loaded.tree(), tokenizerDir,
                    Path.of(c.data().corpus().get(0)), "PyTorch " + Engine.getEngine("PyTorch").getVersion(), "cpu()"));
        }
        Path init = null;
        try {
            say.accept("run directory: " + tracker.dir());
            Path start = resumeFrom;
            if (start == null) {
                init = Files.createTempDirectory("finadvisor-pretrain-init");
                new RandomCheckpoint("LlamaForCausalLM", m.hidden_size(), m.intermediate_size(), m.num_layers(), m.num_heads(), m.num_kv_heads(),
                        vocab, m.max_seq_length(), m.tie_embeddings(), Map.of(), Dtype.F32, 0.02, t.seed()).write(init);
                for (String f : List.of("tokenizer.json", "tokenizer_config.json")) {
                    if (Files.exists(tokenizerDir.resolve(f))) Files.copy(tokenizerDir.resolve(f), init.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                }
                start = init;
            }
            return train(c, start, resumeFrom, stream, trainEnd, validationBlocks, tracker);
        } catch (IOException e) {
            tracker.fail(e);
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            tracker.fail(e);
            throw e;
        } finally {
            tracker.close();
            if (init != null) Checkpoints.deleteTreeQuietly(init);
        }
    }

    /**
     * Trains from the model folder {@code start} (the random initial weights, or the checkpoint {@code resumeFrom} with its
     * optimizer state and step). A step's blocks are drawn from (seed, step), so a resumed run repeats the uninterrupted one.
     */
    private Outcome train(PretrainConfig c, Path start, Path resumeFrom, int[] stream, int trainEnd, int validationBlocks, RunTracker tracker)
            throws IOException {
        PretrainConfig.Training t = c.training();
        int seq = c.model().max_seq_length();
        Checkpoints checkpoints = new Checkpoints(tracker.checkpointsDir());
        Path files = Files.createTempDirectory("finadvisor-pretrain-files"); // config and tokenizer, kept while checkpoints rotate
        copyModelFiles(start, files);
        try (NDManager root = NDManager.newBaseManager(); CausalLM model = CausalLM.load(start, root)) {
            Map<String, NDArray> params = model.parameters();
            long count = 0;
            for (NDArray p : params.values()) {
                p.setRequiresGradient(true);
                count += p.getShape().size();
            }
            say.accept(String.format(Locale.ROOT, "model: Llama, %d layers, hidden %d, %,d parameters, all trainable", c.model().num_layers(),
                    c.model().hidden_size(), count));
            LrSchedule schedule = new LrSchedule(LrSchedule.Kind.COSINE, t.learning_rate(), t.warmup_steps(), t.max_steps());
            double first = validationBlocks == 0 ? Double.NaN : evaluate(model, stream, trainEnd, validationBlocks, seq, root);
            double last = first;
            // Ctrl-C, SIGTERM: end after the step under way, with a checkpoint of it
            try (RunTracker.WindDown windDown = tracker.stopOnJvmExit("stopping: the step under way finishes and is saved as a checkpoint (waiting up to "
                    + STOP_WAIT.toMinutes() + " min)", this::requestStop, STOP_WAIT);
                 AdamW optimizer = new AdamW(params, new AdamW.Hyper(0.9, 0.95, 1e-8, t.weight_decay()), root);
                 Progress progress = Progress.start("pretrain", t.max_steps(), "steps")) {
                int from = 0;
                if (resumeFrom != null) {
                    Checkpoints.Loaded l = Checkpoints.loadState(resumeFrom);
                    optimizer.load(l.optimizer(), l.optimizerSteps());
                    from = l.state().step();
                    say.accept("resuming from " + resumeFrom + " at step " + from + " of " + t.max_steps());
                }
                double windowLoss = 0;
                long windowTokens = 0;
                long windowStart = System.nanoTime();
                for (int step = from; step < t.max_steps(); step++) {
                    SplittableRandom order = new SplittableRandom(t.seed() * 1_000_003L + step);
                    long[] inputs = new long[t.batch_size() * seq];
                    long[] targets = new long[t.batch_size() * seq];
                    for (int b = 0; b < t.batch_size(); b++) {
                        int at = order.nextInt(trainEnd - seq);
                        for (int i = 0; i < seq; i++) {
                            inputs[b * seq + i] = stream[at + i];
                            targets[b * seq + i] = stream[at + i + 1];
                        }
                    }
                    double loss;
                    try (NDScope scope = new NDScope(); NDManager s = root.newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray logits = model.forward(s.create(inputs, new Shape(t.batch_size(), seq)));
                        NDArray mean = TokenCrossEntropy.sum(logits.reshape(-1, logits.getShape().get(2)), s.create(targets)).div(targets.length);
                        loss = mean.getFloat();
                        if (!Double.isFinite(loss)) throw new UserError("pretraining diverged at step " + (step + 1) + ": the loss is " + loss
                                + "; lower training.learning_rate or training.max_grad_norm");
                        gc.backward(mean);
                    }
                    double lr = schedule.at(step);
                    double gradNorm;
                    try (NDScope scope = new NDScope()) {
                        gradNorm = GradientClipping.clip(params.values(), t.max_grad_norm(), root);
                        optimizer.step(lr);
                    }
                    GradientClipping.zeroGradients(params.values());
                    windowLoss += loss * targets.length;
                    windowTokens += targets.length;
                    int done = step + 1;
                    progress.advance(done == from + 1 ? done : 1, String.format(Locale.ROOT, "loss %.4f lr %.2e", loss, lr));
                    boolean log = done % t.logging_steps() == 0 || done == t.max_steps();
                    boolean eval = validationBlocks > 0 && (done % t.eval_steps() == 0 || done == t.max_steps());
                    if (log || eval) {
                        Map<String, Double> record = new LinkedHashMap<>();
                        if (log) {
                            double seconds = (System.nanoTime() - windowStart) / 1e9;
                            record.put("loss", windowLoss / windowTokens);
                            record.put("learning_rate", lr);
                            record.put("grad_norm", gradNorm);
                            record.put("tokens_per_s", windowTokens / Math.max(1e-9, seconds));
                            windowLoss = 0;
                            windowTokens = 0;
                            windowStart = System.nanoTime();
                        }
                        if (eval) {
                            last = evaluate(model, stream, trainEnd, validationBlocks, seq, root);
                            record.put("eval_loss", last);
                            record.put("perplexity", Math.exp(last));
                        }
                        tracker.log(done, record);
                        say.accept("step " + done + "/" + t.max_steps() + " " + SftTrainer.readable(record));
                    }
                    boolean stop = stopRequested && done < t.max_steps();
                    if (done % t.save_steps() == 0 || stop) {
                        checkpoints.save(new TrainerState(done, t.max_steps(), Double.POSITIVE_INFINITY, -1), dir -> write(params, files, dir),
                                optimizer.state(), optimizer.steps());
                        checkpoints.rotate(t.save_total_limit(), -1);
                    }
                    if (stop) {
                        String line = "stopped after step " + done + " of " + t.max_steps() + ", saved as checkpoint-" + done
                                + ": continue with `finadvisor pretrain --resume " + tracker.dir() + "`";
                        say.accept(line);
                        tracker.kill(line);
                        return new Outcome(tracker.dir(), null, first, last, done);
                    }
                }
            }
            Path modelDir = tracker.dir().resolve("model");
            write(params, files, modelDir);
            tracker.artifact("model", modelDir);
            Map<String, Double> finals = new LinkedHashMap<>();
            if (validationBlocks > 0) {
                finals.put("eval_loss", last);
                finals.put("perplexity", Math.exp(last));
            }
            tracker.finish(finals);
            say.accept(String.format(Locale.ROOT, "model (Hugging Face checkpoint) in %s; validation loss %.4f -> %.4f", modelDir, first, last));
            return new Outcome(tracker.dir(), modelDir, first, last, t.max_steps());
        } finally {
            Checkpoints.deleteTreeQuietly(files);
        }
    }

    /** A checkpoint folder's files but its weights and training state (config.json, the tokenizer's files) into {@code dir}. */
    private static void copyModelFiles(Path from, Path dir) throws IOException {
        Files.createDirectories(dir);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (Files.isRegularFile(f) && !name.endsWith(".safetensors") && !STATE_FILES.contains(name)) {
                    Files.copy(f, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /** Mean cross-entropy per token over the first {@code blocks} blocks of the held-out tokens, without gradients. */
    static double evaluate(CausalLM model, int[] stream, int trainEnd, int blocks, int seq, NDManager root) {
        double sum = 0;
        long n = 0;
        for (int b = 0; b < blocks; b++) {
            int at = trainEnd + b * (seq + 1);
            long[] inputs = new long[seq];
            long[] targets = new long[seq];
            for (int i = 0; i < seq; i++) {
                inputs[i] = stream[at + i];
                targets[i] = stream[at + i + 1];
            }
            try (NDScope scope = new NDScope(); NDManager s = root.newSubManager()) {
                NDArray logits = model.forward(s.create(inputs, new Shape(1, seq)));
                sum += TokenCrossEntropy.sum(logits.reshape(-1, logits.getShape().get(2)), s.create(targets)).getFloat();
                n += seq;
            }
        }
        return sum / n;
    }

    /**
     * The documents as one token stream, each encoded as generation encodes a prompt (with the tokenizer's special
     * tokens: BOS first for a Llama tokenizer) and followed by EOS.
     */
    static int[] tokens(List<String> documents, Tokenizer tok, int eos) {
        int[] out = new int[1024];
        int n = 0;
        for (String d : documents) {
            int[] ids = tok.encode(d, true);
            if (n + ids.length + 1 > out.length) out = java.util.Arrays.copyOf(out, Math.max(out.length * 2, n + ids.length + 1));
            System.arraycopy(ids, 0, out, n, ids.length);
            n += ids.length;
            out[n++] = eos;
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** A Hugging Face checkpoint of the weights: {@code files}' config and tokenizer, model.safetensors. */
    private static void write(Map<String, NDArray> params, Path files, Path dir) throws IOException {
        copyModelFiles(files, dir);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        params.forEach(w::add);
        w.write(dir.resolve("model.safetensors"));
    }
}
