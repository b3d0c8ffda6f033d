package dev.finadvisor.training.sft;

/**
 * One tokenised training sequence: the token ids of the rendered prompt and answer, and the token
 * range [answerStart, answerEnd) that is answer (plus end-of-sequence): only those tokens are
 * predicted in the loss. {@code truncated} marks a sample cut to max_seq_length. A packed block
 * (several examples in one sequence, see {@link Packing}) has several answers: then
 * {@code answerMask} (one flag per token, may be null otherwise) says which tokens are answer, and
 * the range only encloses them.
 */
public record Example(int[] tokens, int answerStart, int answerEnd, boolean truncated, boolean[] answerMask) {
    public Example {
        if (tokens.length < 2) throw new IllegalArgumentException("an example needs at least 2 tokens, has " + tokens.length);
        if (answerStart < 0 || answerEnd > tokens.length || answerStart > answerEnd) {
            throw new IllegalArgumentException("answer range [" + answerStart + ", " + answerEnd + ") outside " + tokens.length + " tokens");
        }
        if (answerMask != null && answerMask.length != tokens.length) {
            throw new IllegalArgumentException("answer mask has " + answerMask.length + " flags for " + tokens.length + " tokens");
        }
    }

    /** One sample's example: its answer is the one range. */
    public Example(int[] tokens, int answerStart, int answerEnd, boolean truncated) {
        this(tokens, answerStart, answerEnd, truncated, null);
    }

    /** Whether token i is answer (whether or not it can be predicted). */
    public boolean isAnswer(int i) {
        return answerMask != null ? answerMask[i] : i >= answerStart && i < answerEnd;
    }

    /** Tokens the loss counts: answer tokens that have a preceding token to be predicted from. */
    public int answerTokens() {
        if (answerMask == null) return Math.max(0, answerEnd - Math.max(answerStart, 1));
        int n = 0;
        for (int i = 1; i < tokens.length; i++) if (answerMask[i]) n++;
        return n;
    }

    /** Whether next-token position t (predicting tokens[t + 1]) counts in the loss. */
    public boolean counts(int t) {
        return isAnswer(t + 1);
    }
}
