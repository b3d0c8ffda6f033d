package dev.finadvisor.training.sft;

import dev.finadvisor.domain.config.Problems;
import dev.finadvisor.domain.config.Validated;
import dev.finadvisor.domain.prompt.PromptTemplates;
import dev.finadvisor.llm.lora.LoraConfig;
import dev.finadvisor.llm.train.LrSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The configuration of a supervised fine-tuning run, with the course's (Hugging Face Trainer's)
 * key names; every key is documented in {@code sft-defaults.yaml} and checked here before any work.
 */
public record SftConfig(Model model, Data data, Lora lora, String quantization, Training training, Eval eval, String output_dir)
        implements Validated {
    public static final String DEFAULTS = "/dev/finadvisor/training/sft/sft-defaults.yaml";
    public static final List<String> QUANTIZATIONS = List.of("none", "nf4");
    private static final Pattern MODULE_NAME = Pattern.compile("[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*");

    /** The base model and how samples become tokens. */
    public record Model(String id, String template, int max_seq_length) {}

    /**
     * Where the Q&A samples come from, whether their text is normalised ({@code QaCleaner}) before
     * templating, and whether training examples are packed into max_seq_length blocks ({@link Packing}).
     */
    public record Data(String train, String validation, double validation_fraction, boolean clean, boolean packing) {}

    /**
     * The evaluation {@code after_training} runs on the held-out samples once the adapter is written (finadvisor eval's
     * metrics, recorded as the run's final metrics): the model loaded afresh with its weights held as {@code weights}
     * (auto: NF4 for a QLoRA run, else the checkpoint's own precision), greedy answers of at most {@code max_new_tokens}
     * with the server's {@code repetition_penalty}, on the first {@code max_samples} samples (0: all).
     */
    public record Eval(boolean after_training, String weights, int max_new_tokens, double repetition_penalty, int max_samples) {}

    /** The LoRA adapter's shape. */
    public record Lora(int r, double alpha, double dropout, List<String> target_modules) {}

    /** Optimisation, schedule, logging and checkpointing (Hugging Face TrainingArguments names). */
    public record Training(int per_device_train_batch_size, int gradient_accumulation_steps, double learning_rate,
                           double weight_decay, double adam_beta1, double adam_beta2, double adam_epsilon,
                           String lr_scheduler_type, double warmup_ratio, int warmup_steps, double max_grad_norm,
                           double num_train_epochs, int max_steps, int logging_steps, int eval_steps, int save_steps,
                           int save_total_limit, boolean load_best_model_at_end, long seed, boolean gradient_checkpointing) {}

    @Override
    public void validate(Problems p) {
        if (model == null || data == null || lora == null || training == null || eval == null) {
            for (var e : java.util.Map.of("model", model == null, "data", data == null, "lora", lora == null,
                    "training", training == null, "eval", eval == null).entrySet()) {
                if (e.getValue()) p.add(e.getKey(), "is missing; it is a section with keys (see the defaults)");
            }
            return;
        }
        p.requireNonBlank("model.id", model.id());
        p.requireOneOf("model.template", model.template(), PromptTemplates.NAMES);
        p.requireRange("model.max_seq_length", model.max_seq_length(), 8, 1 << 20);
        p.requireNonBlank("data.train", data.train());
        requireFile(p, "data.train", data.train());
        if (data.validation() != null) requireFile(p, "data.validation", data.validation());
        p.requireRange("data.validation_fraction", data.validation_fraction(), 0.0, 0.9);
        p.requireRange("lora.r", lora.r(), 1, 4096);
        if (!(lora.alpha() > 0) || !Double.isFinite(lora.alpha())) p.add("lora.alpha", "is " + lora.alpha() + ", must be a number above 0");
        if (!(lora.dropout() >= 0 && lora.dropout() < 1)) p.add("lora.dropout", "is " + lora.dropout() + ", must be at least 0 and below 1");
        if (lora.target_modules() == null || lora.target_modules().isEmpty()) {
            p.add("lora.target_modules", "is empty; name the linear layers to adapt, e.g. [q_proj, v_proj] or [query_key_value]");
        } else if (lora.target_modules().contains(LoraConfig.ALL_LINEAR)) {
            if (lora.target_modules().size() > 1) {
                p.add("lora.target_modules", "has " + LoraConfig.ALL_LINEAR + " beside other names; it already means every linear layer but the output head");
            }
        } else {
            for (String m : lora.target_modules()) {
                if (m == null || !MODULE_NAME.matcher(m).matches()) {
                    p.add("lora.target_modules", "has '" + m + "', not a module name such as q_proj or self_attn.q_proj (or [all-linear])");
                }
            }
        }
        p.requireOneOf("quantization", quantization, QUANTIZATIONS);
        Training t = training;
        p.requireRange("training.per_device_train_batch_size", t.per_device_train_batch_size(), 1, 4096);
        p.requireRange("training.gradient_accumulation_steps", t.gradient_accumulation_steps(), 1, 1 << 16);
        if (!(t.learning_rate() > 0 && t.learning_rate() <= 1)) p.add("training.learning_rate", "is " + t.learning_rate() + ", must be above 0 and at most 1");
        p.requireRange("training.weight_decay", t.weight_decay(), 0.0, 1.0);
        if (!(t.adam_beta1() >= 0 && t.adam_beta1() < 1)) p.add("training.adam_beta1", "is " + t.adam_beta1() + ", must be at least 0 and below 1");
        if (!(t.adam_beta2() >= 0 && t.adam_beta2() < 1)) p.add("training.adam_beta2", "is " + t.adam_beta2() + ", must be at least 0 and below 1");
        if (!(t.adam_epsilon() > 0 && t.adam_epsilon() < 1)) p.add("training.adam_epsilon", "is " + t.adam_epsilon() + ", must be above 0 and below 1");
        p.requireOneOf("training.lr_scheduler_type", t.lr_scheduler_type(), LrSchedule.Kind.configNames());
        if (!(t.warmup_ratio() >= 0 && t.warmup_ratio() < 1)) p.add("training.warmup_ratio", "is " + t.warmup_ratio() + ", must be at least 0 and below 1");
        p.requireRange("training.warmup_steps", t.warmup_steps(), 0, Integer.MAX_VALUE);
        p.requireRange("training.max_grad_norm", t.max_grad_norm(), 0.0, 1e6);
        if (t.max_steps() <= 0 && !(t.num_train_epochs() > 0 && t.num_train_epochs() <= 1e6)) {
            p.add("training.num_train_epochs", "is " + t.num_train_epochs() + ", must be above 0 (or set training.max_steps)");
        }
        if (t.max_steps() == 0 || t.max_steps() < -1) p.add("training.max_steps", "is " + t.max_steps() + ", must be -1 (use num_train_epochs) or at least 1");
        p.requireRange("training.logging_steps", t.logging_steps(), 1, Integer.MAX_VALUE);
        p.requireRange("training.eval_steps", t.eval_steps(), 1, Integer.MAX_VALUE);
        p.requireRange("training.save_steps", t.save_steps(), 1, Integer.MAX_VALUE);
        p.requireRange("training.save_total_limit", t.save_total_limit(), 1, 100_000);
        if (!List.of("auto", "fp32", "bf16", "int8", "nf4").contains(eval.weights())) {
            p.add("eval.weights", "is '" + eval.weights() + "'; use auto, fp32, bf16, int8 or nf4");
        }
        p.requireRange("eval.max_new_tokens", eval.max_new_tokens(), 1, 1 << 16);
        p.requireRange("eval.repetition_penalty", eval.repetition_penalty(), 0.5, 5.0);
        p.requireRange("eval.max_samples", eval.max_samples(), 0, Integer.MAX_VALUE);
        p.requireNonBlank("output_dir", output_dir);
    }

    private static void requireFile(Problems p, String key, String value) {
        if (value != null && !value.isBlank() && !Files.isRegularFile(Path.of(value))) {
            p.add(key, "is '" + value + "', which is not a readable file");
        }
    }
}
