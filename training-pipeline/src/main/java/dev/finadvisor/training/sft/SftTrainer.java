package dev.finadvisor.training.sft;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.finadvisor.domain.util.Progress;
import dev.finadvisor.llm.lora.LoraLayers;
import dev.finadvisor.llm.model.TrainingPass;
import dev.finadvisor.llm.train.AdamW;
import dev.finadvisor.llm.train.GradientClipping;
import dev.finadvisor.llm.train.LrSchedule;
import dev.finadvisor.llm.train.TokenCrossEntropy;
import dev.finadvisor.training.tracking.RunTracker;
import dev.finadvisor.training.tracking.RunsView;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.StringJoiner;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The supervised fine-tuning loop: answer-only cross-entropy, gradient accumulation normalised by
 * the answer tokens of the whole accumulated batch (so it equals one big batch), global-norm
 * clipping, AdamW on the LoRA factors, a learning-rate schedule, evaluation, atomic checkpoints
 * and exact resumption. Data order and dropout are functions of (seed, step), so a resumed run
 * repeats the uninterrupted run's computation.
 */
public final class SftTrainer {
    private static final Logger LOG = LoggerFactory.getLogger(SftTrainer.class);

    /** What the loop needs beyond the model: the Training section plus the tokenizer's pad id. */
    public record Settings(SftConfig.Training training, int padId) {}

    /** How the run ended. */
    public record Result(TrainerState state, double lastLoss, Path bestCheckpoint, Path lastCheckpoint) {
        /** {@link #requestStop} ended the run early, after a checkpoint of its last step. */
        public boolean stopped() {
            return state.step() < state.totalSteps();
        }
    }

    private volatile boolean stopRequested;
    private final TrainingPass pass;
    private final LoraLayers lora;
    private final List<Example> train;
    private final List<Example> validation;
    private final Settings settings;
    private final Checkpoints checkpoints;
    private final RunTracker run;
    private final NDManager manager;
    private final int samplesPerStep;

    /**
     * @param logits model forward: int64 ids [batch, seq] to logits [batch, seq, vocab] through DJL ops
     *               (the LoRA layers of {@code lora} inside it)
     * @param run    the run the metrics are logged to (its metrics.jsonl has one writer: the tracker); on
     *               resume it must come from {@link RunTracker#resume}, which drops the steps to be repeated
     */
    public SftTrainer(UnaryOperator<NDArray> logits, LoraLayers lora, List<Example> train, List<Example> validation,
                      Settings settings, Checkpoints checkpoints, RunTracker run, NDManager manager) {
        this(TrainingPass.whole(logits), lora, train, validation, settings, checkpoints, run, manager);
    }

    /**
     * As above with the training pass given: e.g. {@link dev.finadvisor.llm.quant.LayerwiseBackward}
     * for an NF4 base, which holds one decoder layer's dequantised weights at a time.
     */
    public SftTrainer(TrainingPass pass, LoraLayers lora, List<Example> train, List<Example> validation,
                      Settings settings, Checkpoints checkpoints, RunTracker run, NDManager manager) {
        if (train.isEmpty()) throw new IllegalArgumentException("no training examples");
        this.pass = pass;
        this.lora = lora;
        this.train = List.copyOf(train);
        this.validation = List.copyOf(validation);
        this.settings = settings;
        this.checkpoints = checkpoints;
        this.run = run;
        this.manager = manager;
        this.samplesPerStep = settings.training().per_device_train_batch_size() * settings.training().gradient_accumulation_steps();
    }

    /** Optimizer steps of the whole run: max_steps, else ceil(epochs * samples / effective batch). */
    public static int totalSteps(SftConfig.Training t, int samples) {
        if (t.max_steps() > 0) return t.max_steps();
        int perStep = t.per_device_train_batch_size() * t.gradient_accumulation_steps();
        return Math.max(1, (int) Math.ceil(t.num_train_epochs() * samples / perStep));
    }

    /** The sample at position k of the endless stream of epochs, each a seeded shuffle of the samples. */
    private Example sampleAt(long k, Map<Long, int[]> orders) {
        long epoch = k / train.size();
        int[] order = orders.computeIfAbsent(epoch, e -> {
            int[] o = new int[train.size()];
            for (int i = 0; i < o.length; i++) o[i] = i;
            Random r = new Random(settings.training().seed() * 1_000_003L + e);
            for (int i = o.length - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int tmp = o[i];
                o[i] = o[j];
                o[j] = tmp;
            }
            return o;
        });
        return train.get(order[(int) (k % train.size())]);
    }

    /** Trains from the start, or from checkpoint folder {@code resumeFrom} when not null. */
    public Result run(Path resumeFrom) {
        SftConfig.Training t = settings.training();
        int total = totalSteps(t, train.size());
        LrSchedule schedule = new LrSchedule(LrSchedule.Kind.byName(t.lr_scheduler_type()), t.learning_rate(),
                LrSchedule.warmupSteps(t.warmup_steps(), t.warmup_ratio(), total), total);
        Map<String, NDArray> params = lora.parameters();
        AdamW.Hyper hyper = new AdamW.Hyper(t.adam_beta1(), t.adam_beta2(), t.adam_epsilon(), t.weight_decay());
        try (AdamW optimizer = new AdamW(params, hyper, manager)) {
            TrainerState state = TrainerState.start(total);
            if (resumeFrom != null) {
                Checkpoints.Loaded c = Checkpoints.load(resumeFrom);
                lora.load(c.adapter());
                optimizer.load(c.optimizer(), c.optimizerSteps());
                state = new TrainerState(c.state().step(), total, c.state().bestEvalLoss(), c.state().bestStep());
                LOG.info("resuming from {} at step {} of {}", resumeFrom, state.step(), total);
            }
            GradientClipping.zeroGradients(params.values());
            Map<Long, int[]> orders = new LinkedHashMap<>();
            double windowLoss = 0;
            long windowAnswerTokens = 0;
            long windowTokens = 0;
            double windowSeconds = 0; // training steps only: evaluation and checkpoints are not training throughput
            double lastLoss = Double.NaN;
            Path lastCheckpoint = resumeFrom;
            try (Progress progress = Progress.start("train", total, "steps")) {
                progress.advance(state.step(), "");
                while (state.step() < total) {
                    int step = state.step();
                    long stepStart = System.nanoTime();
                    double lr = schedule.at(step);
                    lora.setTraining(true);
                    Engine.getInstance().setRandomSeed((int) (t.seed() * 7919 + step)); // dropout masks are a function of the step
                    lora.seedDropout(t.seed() * 7919 + step); // (drawn in Java on a CPU, by the engine elsewhere)
                    List<List<Example>> micro = new ArrayList<>();
                    long answerTokens = 0;
                    for (int a = 0; a < t.gradient_accumulation_steps(); a++) {
                        List<Example> batch = new ArrayList<>();
                        for (int b = 0; b < t.per_device_train_batch_size(); b++) {
                            Example e = sampleAt((long) step * samplesPerStep + (long) a * t.per_device_train_batch_size() + b, orders);
                            batch.add(e);
                            answerTokens += e.answerTokens();
                        }
                        micro.add(batch);
                    }
                    double lossSum = 0;
                    long tokens = 0;
                    for (List<Example> batch : micro) {
                        try (NDScope scope = new NDScope(); NDManager stepManager = manager.newSubManager()) {
                            Batch b = Batch.of(batch, settings.padId(), stepManager);
                            tokens += b.tokens();
                            if (b.answerTokens() == 0) continue; // no loss and no gradient: nothing to run
                            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                                NDArray logits = pass.forward(b.inputs(), b.answerPositions());
                                // every micro-batch divides by the answer tokens of the whole step: one big batch
                                TokenCrossEntropy.WithGradient loss = TokenCrossEntropy.sumAndGradient(logits, b.answerTargets(), 1f / Math.max(1, answerTokens));
                                if (!Double.isFinite(loss.sum())) throw diverged(step, "loss", loss.sum());
                                lossSum += loss.sum();
                                pass.backward(logits, loss.gradient());
                            }
                        }
                    }
                    double gradNorm;
                    try (NDScope scope = new NDScope()) {
                        gradNorm = GradientClipping.clip(params.values(), t.max_grad_norm(), manager);
                        if (!Double.isFinite(gradNorm)) throw diverged(step, "gradient norm", gradNorm);
                        optimizer.step(lr);
                    }
                    GradientClipping.zeroGradients(params.values());
                    double stepSeconds = (System.nanoTime() - stepStart) / 1e9;
                    int done = step + 1;
                    lastLoss = lossSum / Math.max(1, answerTokens);
                    windowLoss += lossSum;
                    windowAnswerTokens += answerTokens;
                    windowTokens += tokens;
                    windowSeconds += stepSeconds;
                    state = new TrainerState(done, total, state.bestEvalLoss(), state.bestStep());

                    Map<String, Double> record = new LinkedHashMap<>();
                    boolean log = done % t.logging_steps() == 0 || done == total;
                    boolean eval = !validation.isEmpty() && (done % t.eval_steps() == 0 || done == total);
                    if (log) {
                        record.put("epoch", (double) done * samplesPerStep / train.size());
                        record.put("loss", windowLoss / Math.max(1, windowAnswerTokens));
                        record.put("learning_rate", lr);
                        record.put("grad_norm", gradNorm);
                        record.put("tokens_per_s", windowTokens / Math.max(1e-9, windowSeconds));
                        windowLoss = 0;
                        windowAnswerTokens = 0;
                        windowTokens = 0;
                        windowSeconds = 0;
                    }
                    if (eval) {
                        double evalLoss = evaluate();
                        record.put("eval_loss", evalLoss);
                        record.put("perplexity", Math.exp(evalLoss));
                        if (evalLoss < state.bestEvalLoss()) state = new TrainerState(done, total, evalLoss, done);
                    }
                    if (!record.isEmpty()) {
                        run.log(done, record);
                        LOG.info("step {}/{} {}", done, total, readable(record));
                    }
                    boolean stop = stopRequested && done < total;
                    if (done % t.save_steps() == 0 || done == total || stop) {
                        lastCheckpoint = checkpoints.save(state, lora::writeAdapter, optimizer.state(), optimizer.steps());
                        checkpoints.rotate(t.save_total_limit(), state.bestStep());
                    }
                    progress.advance(1, String.format("loss %.4f lr %.2e %.0f tok/s", lastLoss, lr,
                            tokens / Math.max(1e-9, stepSeconds)));
                    if (stop) break;
                }
            }
            Path best = state.bestStep() >= 0 ? checkpoints.dirFor(state.bestStep()) : lastCheckpoint;
            return new Result(state, lastLoss, best, lastCheckpoint);
        }
    }

    /**
     * Asks a running {@link #run} to end after the step it is on, with a checkpoint of that step (callable from any
     * thread, e.g. a signal's shutdown hook).
     */
    public void requestStop() {
        stopRequested = true;
    }

    /** Mean cross-entropy per answer token over the validation examples, without dropout or gradients. */
    public double evaluate() {
        lora.setTraining(false);
        double sum = 0;
        long count = 0;
        int batchSize = settings.training().per_device_train_batch_size();
        for (int i = 0; i < validation.size(); i += batchSize) {
            try (NDScope scope = new NDScope(); NDManager m = manager.newSubManager()) {
                Batch b = Batch.of(validation.subList(i, Math.min(validation.size(), i + batchSize)), settings.padId(), m);
                if (b.answerTokens() == 0) continue;
                sum += TokenCrossEntropy.sum(pass.forward(b.inputs(), b.answerPositions()), b.answerTargets()).getFloat();
                count += b.answerTokens();
            }
        }
        lora.setTraining(true);
        return count == 0 ? Double.NaN : sum / count;
    }

    private TrainingDivergedException diverged(int step, String what, double value) {
        String last = checkpoints.latest().map(s -> "the last good checkpoint is " + checkpoints.dirFor(s))
                .orElse("no checkpoint was written yet");
        return new TrainingDivergedException("training diverged at step " + (step + 1) + ": the " + what + " is " + value
                + "; " + last + " (resume from it with a lower training.learning_rate or training.max_grad_norm)");
    }

    /** The record as the log shows it: numbers as {@code runs list} shows them (metrics.jsonl keeps every digit). */
    public static String readable(Map<String, Double> record) {
        StringJoiner out = new StringJoiner(", ", "{", "}");
        record.forEach((k, v) -> out.add(k + "=" + RunsView.number(v)));
        return out.toString();
    }
}
