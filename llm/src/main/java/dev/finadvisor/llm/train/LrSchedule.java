package dev.finadvisor.llm.train;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The learning rate at each optimizer step, as Hugging Face's {@code get_scheduler} computes it:
 * step 0 is the first update (so with warmup the first update has learning rate 0), and
 * {@code constant} ignores warmup exactly as Transformers does; {@code constant_with_warmup} honours it.
 */
public record LrSchedule(Kind kind, double peak, int warmupSteps, int totalSteps) {
    /** Schedule shapes, named as in Transformers' {@code SchedulerType}. */
    public enum Kind {
        CONSTANT, CONSTANT_WITH_WARMUP, LINEAR, COSINE;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static List<String> configNames() {
            return Arrays.stream(values()).map(Kind::configName).toList();
        }

        /** The kind named {@code name} (as in the config), or an exception listing the valid names. */
        public static Kind byName(String name) {
            for (Kind k : values()) if (k.configName().equals(name)) return k;
            throw new IllegalArgumentException("unknown lr_scheduler_type '" + name + "', expected one of " + configNames());
        }
    }

    public LrSchedule {
        if (totalSteps < 1) throw new IllegalArgumentException("totalSteps must be >= 1, got " + totalSteps);
        if (warmupSteps < 0) throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps);
    }

    /** Transformers' {@code TrainingArguments.get_warmup_steps}: explicit steps win, else ceil(ratio * total). */
    public static int warmupSteps(int warmupSteps, double warmupRatio, int totalSteps) {
        return warmupSteps > 0 ? warmupSteps : (int) Math.ceil(totalSteps * warmupRatio);
    }

    /** Learning rate of the update with 0-based index {@code step}. */
    public double at(int step) {
        return peak * factor(step);
    }

    private double factor(int step) {
        if (kind == Kind.CONSTANT) return 1.0;
        if (step < warmupSteps) return (double) step / Math.max(1, warmupSteps);
        return switch (kind) {
            case CONSTANT, CONSTANT_WITH_WARMUP -> 1.0;
            case LINEAR -> Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
            case COSINE -> {
                double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
                yield Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * progress)));
            }
        };
    }
}
