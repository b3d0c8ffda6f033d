package dev.finadvisor.llm.lora;

import java.util.List;

/**
 * What a LoRA adapter is: rank {@code r}, scaling {@code alpha} (the update is scaled by alpha/r,
 * or alpha/sqrt(r) with rsLoRA), dropout on the LoRA path, the Hugging Face module names it
 * targets (e.g. {@code q_proj}, {@code query_key_value}), the base model it was trained on and the
 * prompt template its training used (null when unknown, e.g. for an adapter made by PEFT).
 */
public record LoraConfig(int r, double alpha, double dropout, List<String> targetModules, boolean useRslora,
                         String baseModel, String template) {
    /** PEFT's shorthand for every linear layer but the output head, as the only target. */
    public static final String ALL_LINEAR = "all-linear";

    /** The module name of the output head, which {@link #ALL_LINEAR} leaves out (as PEFT does). */
    public static final String OUTPUT_HEAD = "lm_head";

    public LoraConfig {
        if (r < 1) throw new IllegalArgumentException("LoRA rank r must be >= 1, got " + r);
        if (!(alpha > 0) || !Double.isFinite(alpha)) throw new IllegalArgumentException("lora_alpha must be > 0, got " + alpha);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + dropout);
        targetModules = List.copyOf(targetModules);
    }

    public LoraConfig(int r, double alpha, double dropout, List<String> targetModules, String baseModel, String template) {
        this(r, alpha, dropout, targetModules, false, baseModel, template);
    }

    /** This configuration targeting {@code modules} by name instead (e.g. all-linear resolved to the names it matched). */
    public LoraConfig withTargets(List<String> modules) {
        return new LoraConfig(r, alpha, dropout, modules, useRslora, baseModel, template);
    }

    /** The factor on B A x: alpha / r (PEFT's default) or alpha / sqrt(r) with rsLoRA. */
    public double scale() {
        return useRslora ? alpha / Math.sqrt(r) : alpha / r;
    }

    /**
     * Whether the module at {@code path} is targeted, as PEFT matches a list: its last name component
     * equals a target, or the path ends with ".target" (targets may name a suffix such as
     * {@code self_attn.q_proj}); with {@link #ALL_LINEAR}, every module but the output head.
     */
    public boolean targets(String path) {
        if (targetModules.equals(List.of(ALL_LINEAR))) return !path.equals(OUTPUT_HEAD);
        for (String t : targetModules) {
            if (path.equals(t) || path.endsWith("." + t)) return true;
        }
        return false;
    }
}
