package dev.finadvisor.training.sft;

/**
 * One tokenised training sample: the token ids of the rendered prompt and answer, and the token
 * range [answerStart, answerEnd) that is answer (plus end-of-sequence): only those tokens are
 * predicted in the loss. {@code truncated} marks a sample cut to max_seq_length.
 */
public record Example(int[] tokens, int answerStart, int answerEnd, boolean truncated) {
    public Example {
        if (tokens.length < 2) throw new IllegalArgumentException("an example needs at least 2 tokens, has " + tokens.length);
        if (answerStart < 0 || answerEnd > tokens.length || answerStart > answerEnd) {
            throw new IllegalArgumentException("answer range [" + answerStart + ", " + answerEnd + ") outside " + tokens.length + " tokens");
        }
    }

    /** Tokens the loss counts: answer tokens that have a preceding token to be predicted from. */
    public int answerTokens() {
        return Math.max(0, answerEnd - Math.max(answerStart, 1));
    }

    /** Whether next-token position t (predicting tokens[t + 1]) counts in the loss. */
    public boolean counts(int t) {
        return t + 1 >= answerStart && t + 1 < answerEnd;
    }
}
