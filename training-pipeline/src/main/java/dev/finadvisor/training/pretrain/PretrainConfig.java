package dev.finadvisor.training.pretrain;

import dev.finadvisor.domain.config.Problems;
import dev.finadvisor.domain.config.Validated;
import java.util.List;

/** Configuration of {@code finadvisor pretrain} (defaults: {@code pretrain-defaults.yaml}). */
public record PretrainConfig(Model model, Data data, Training training, String output_dir) implements Validated {
    public static final String DEFAULTS = "/dev/finadvisor/training/pretrain/pretrain-defaults.yaml";

    /** The model's shape and its tokenizer. */
    public record Model(String tokenizer, int hidden_size, int intermediate_size, int num_layers, int num_heads, int num_kv_heads,
                        int max_seq_length, boolean tie_embeddings) {}

    /** The corpus and the share of its tokens held out. */
    public record Data(List<String> corpus, double validation_fraction) {}

    /** The optimisation: AdamW, linear warmup then cosine decay, gradient clipping. */
    public record Training(int batch_size, double learning_rate, int warmup_steps, int max_steps, double weight_decay, double max_grad_norm,
                           int eval_steps, int eval_blocks, int logging_steps, int save_steps, int save_total_limit, long seed) {}

    @Override
    public void validate(Problems p) {
        if (model == null || data == null || training == null) {
            p.add(model == null ? "model" : data == null ? "data" : "training", "is missing; it is a section with keys (see the defaults)");
            return;
        }
        p.requireNonBlank("model.tokenizer", model.tokenizer());
        p.requireRange("model.hidden_size", model.hidden_size(), 8, 1 << 16);
        p.requireRange("model.intermediate_size", model.intermediate_size(), 8, 1 << 18);
        p.requireRange("model.num_layers", model.num_layers(), 1, 256);
        p.requireRange("model.num_heads", model.num_heads(), 1, 1024);
        p.requireRange("model.num_kv_heads", model.num_kv_heads(), 1, 1024);
        if (model.num_heads() > 0 && model.hidden_size() % model.num_heads() != 0) {
            p.add("model.hidden_size", "is " + model.hidden_size() + ", not a multiple of model.num_heads " + model.num_heads());
        }
        if (model.num_kv_heads() > 0 && model.num_heads() % model.num_kv_heads() != 0) {
            p.add("model.num_kv_heads", "is " + model.num_kv_heads() + ", which does not divide model.num_heads " + model.num_heads());
        }
        p.requireRange("model.max_seq_length", model.max_seq_length(), 8, 1 << 16);
        if (data.corpus() == null || data.corpus().isEmpty()) p.add("data.corpus", "is empty; list the text, JSON Lines or JSON files to learn from");
        p.requireRange("data.validation_fraction", data.validation_fraction(), 0.0, 0.5);
        Training t = training;
        p.requireRange("training.batch_size", t.batch_size(), 1, 4096);
        if (!(t.learning_rate() > 0 && t.learning_rate() <= 1)) p.add("training.learning_rate", "is " + t.learning_rate() + ", must be above 0 and at most 1");
        p.requireRange("training.warmup_steps", t.warmup_steps(), 0, Integer.MAX_VALUE);
        p.requireRange("training.max_steps", t.max_steps(), 1, Integer.MAX_VALUE);
        p.requireRange("training.weight_decay", t.weight_decay(), 0.0, 1.0);
        p.requireRange("training.max_grad_norm", t.max_grad_norm(), 0.0, 1e6);
        p.requireRange("training.eval_steps", t.eval_steps(), 1, Integer.MAX_VALUE);
        p.requireRange("training.eval_blocks", t.eval_blocks(), 1, 1 << 20);
        p.requireRange("training.logging_steps", t.logging_steps(), 1, Integer.MAX_VALUE);
        p.requireRange("training.save_steps", t.save_steps(), 1, Integer.MAX_VALUE);
        p.requireRange("training.save_total_limit", t.save_total_limit(), 1, 1000);
        p.requireNonBlank("output_dir", output_dir);
    }
}
