package dev.finadvisor.training.sft;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Sequence packing as TRL's {@code ConstantLengthDataset} does it: the tokenised examples are
 * concatenated, each followed by an end-of-sequence separator, and the stream is cut into blocks
 * of exactly {@code blockLength} tokens, so a batch holds no padding (a block may start or end in
 * the middle of an example, and a token may attend to the examples before it in its block, as in
 * TRL). Unlike TRL the loss stays on answer tokens only: each block carries a per-token answer
 * mask, the separators are not answer, and the first token of a block (which nothing in the block
 * precedes) is never predicted. Also unlike TRL the last, shorter block is kept rather than
 * dropped, so no answer is lost on a small data set; blocks without an answer token teach nothing
 * and are dropped (counted).
 */
public final class Packing {
    private Packing() {}

    /** The blocks, and what packing did. */
    public record Packed(List<Example> blocks, int examples, long tokens, int droppedWithoutAnswer) {}

    public static Packed pack(List<Example> examples, int blockLength, int eosId) {
        if (blockLength < 2) throw new IllegalArgumentException("block length must be at least 2, got " + blockLength);
        long total = 0;
        for (Example e : examples) total += e.tokens().length + 1L;
        if (total > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("too many tokens to pack in memory: " + total);
        int[] stream = new int[(int) total];
        boolean[] answer = new boolean[(int) total];
        int at = 0;
        for (Example e : examples) {
            int[] t = e.tokens();
            System.arraycopy(t, 0, stream, at, t.length);
            // token 0 of an example is not predicted on its own either (Example.answerTokens): keep the counts equal
            for (int i = 1; i < t.length; i++) answer[at + i] = e.isAnswer(i);
            at += t.length;
            stream[at++] = eosId; // the separator: predicted by nothing in the loss, as the prompt is not
        }
        List<Example> blocks = new ArrayList<>();
        int dropped = 0;
        for (int from = 0; from < stream.length; from += blockLength) {
            int to = Math.min(stream.length, from + blockLength);
            if (to - from < 2) break;
            boolean[] mask = Arrays.copyOfRange(answer, from, to);
            mask[0] = false; // nothing in the block precedes it
            int first = -1;
            int last = -1;
            for (int i = 0; i < mask.length; i++) {
                if (mask[i]) {
                    if (first < 0) first = i;
                    last = i;
                }
            }
            if (first < 0) {
                dropped++;
                continue;
            }
            blocks.add(new Example(Arrays.copyOfRange(stream, from, to), first, last + 1, false, mask));
        }
        return new Packed(blocks, examples.size(), total, dropped);
    }
}
