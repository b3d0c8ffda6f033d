package dev.finadvisor.training.eval;

/**
 * One sample's scores for one model.
 *
 * @param lossSum          summed cross-entropy of the reference answer's tokens (teacher-forced)
 * @param answerTokens     how many tokens it is summed over (0: the answer did not fit in max_seq_length)
 * @param answer           the greedy answer, without the end-of-answer marker
 * @param finishReason     why generation stopped: eos, stop, length, cancelled, prompt_too_long
 * @param latencyMs        prompt in to last token out
 * @param decodeTokensPerS tokens per second after the first one
 * @param judge            the judge's grades, or null when no judge was asked
 */
public record SampleScore(double lossSum, long answerTokens, String answer, String finishReason, RougeL.Score rouge,
                          int promptTokens, int completionTokens, long latencyMs, double decodeTokensPerS, Judge.Grades judge) {
    public SampleScore withJudge(Judge.Grades grades) {
        return new SampleScore(lossSum, answerTokens, answer, finishReason, rouge, promptTokens, completionTokens, latencyMs,
                decodeTokensPerS, grades);
    }
}
