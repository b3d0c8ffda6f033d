package dev.finadvisor.training.sft;

import dev.finadvisor.domain.UserError;

/** The loss or gradient became NaN or infinite: the run stops, keeping the last good checkpoint. */
public final class TrainingDivergedException extends UserError {
    public TrainingDivergedException(String message) {
        super(message);
    }
}
