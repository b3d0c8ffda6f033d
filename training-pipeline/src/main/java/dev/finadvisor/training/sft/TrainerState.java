package dev.finadvisor.training.sft;

/**
 * Where training stands after {@code step} optimizer updates: enough, with the adapter and the
 * optimizer moments beside it, to continue exactly as if never stopped (data order and dropout
 * are functions of the seed and the step). {@code bestStep} is -1 before the first evaluation.
 */
public record TrainerState(int step, int totalSteps, double bestEvalLoss, int bestStep) {
    public static TrainerState start(int totalSteps) {
        return new TrainerState(0, totalSteps, Double.POSITIVE_INFINITY, -1);
    }
}
