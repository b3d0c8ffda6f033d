package dev.finadvisor.training.sft;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PackingTest {
    private static final int EOS = 99;

    /** Samples of 5..10 tokens, the answer at the end (SftTrainerTest's), plus one longer than a block (its answer too). */
    private static List<Example> examples() {
        List<Example> list = new ArrayList<>(SftTrainerTest.examples(12, 1));
        int[] longOne = new int[40];
        for (int i = 0; i < longOne.length; i++) longOne[i] = 1 + i % 7;
        list.add(5, new Example(longOne, 10, 40, false)); // its answer spans two block boundaries
        return list;
    }

    @Test
    void blocksHoldTheExamplesSeparatedByEosInFixedLengthBlocks() {
        List<Example> examples = examples();
        Packing.Packed packed = Packing.pack(examples, 16, EOS);
        List<Integer> stream = new ArrayList<>();
        for (Example e : examples) {
            for (int t : e.tokens()) stream.add(t);
            stream.add(EOS);
        }
        assertThat(packed.droppedWithoutAnswer()).isZero();
        assertThat(packed.tokens()).isEqualTo(stream.size());
        List<Integer> concatenated = new ArrayList<>();
        List<Example> blocks = packed.blocks();
        for (int b = 0; b < blocks.size(); b++) {
            if (b < blocks.size() - 1) assertThat(blocks.get(b).tokens()).hasSize(16);
            for (int t : blocks.get(b).tokens()) concatenated.add(t);
        }
        assertThat(concatenated).isEqualTo(stream); // nothing lost, nothing reordered; the last block keeps the rest
        assertThat(blocks.get(blocks.size() - 1).tokens().length).isEqualTo(stream.size() % 16 == 0 ? 16 : stream.size() % 16);
    }

    @Test
    void theLossMaskCoversExactlyTheAnswerTokensOfEachPackedExample() {
        List<Example> examples = examples();
        // the expected flag of every stream position, from each example's own answer range
        List<Boolean> expected = new ArrayList<>();
        long answerTokens = 0;
        for (Example e : examples) {
            for (int i = 0; i < e.tokens().length; i++) expected.add(i >= Math.max(1, e.answerStart()) && i < e.answerEnd());
            expected.add(false); // the EOS separator
            answerTokens += e.answerTokens();
        }
        Packing.Packed packed = Packing.pack(examples, 16, EOS);
        long counted = 0;
        long lostAtBlockStarts = 0;
        for (int b = 0; b < packed.blocks().size(); b++) {
            Example block = packed.blocks().get(b);
            for (int t = 0; t + 1 < block.tokens().length; t++) {
                int position = b * 16 + t + 1; // position t predicts token t + 1
                assertThat(block.counts(t)).as("block %d position %d", b, t).isEqualTo(expected.get(position));
                if (block.counts(t)) counted++;
            }
            if (expected.get(b * 16)) lostAtBlockStarts++; // nothing in the block precedes its first token
        }
        assertThat(counted).isEqualTo(answerTokens - lostAtBlockStarts);
        assertThat(packed.blocks().stream().mapToLong(Example::answerTokens).sum()).isEqualTo(counted);
        assertThat(lostAtBlockStarts).isLessThan(packed.blocks().size());

        try (NDManager manager = NDManager.newBaseManager()) {
            Batch batch = Batch.of(packed.blocks(), 0, manager);
            float[] mask = batch.mask().toFloatArray();
            int width = (int) batch.inputs().getShape().get(1);
            long ones = 0;
            for (int b = 0; b < packed.blocks().size(); b++) {
                for (int t = 0; t < width; t++) {
                    boolean inBlock = t + 1 < packed.blocks().get(b).tokens().length;
                    assertThat(mask[b * width + t] == 1f).isEqualTo(inBlock && expected.get(b * 16 + t + 1));
                    if (mask[b * width + t] == 1f) ones++;
                }
            }
            assertThat(ones).isEqualTo(counted).isEqualTo(batch.answerTokens());
        }
    }

    @Test
    void packingReducesPadding() {
        List<Example> examples = SftTrainerTest.examples(24, 4);
        Packing.Packed packed = Packing.pack(examples, 16, EOS);
        try (NDManager manager = NDManager.newBaseManager()) {
            long unpacked = 0;
            for (int i = 0; i < examples.size(); i += 4) unpacked += Batch.of(examples.subList(i, i + 4), 0, manager).paddedPositions();
            long packedPadding = 0;
            List<Example> blocks = packed.blocks();
            for (int i = 0; i < blocks.size(); i += 4) {
                packedPadding += Batch.of(blocks.subList(i, Math.min(blocks.size(), i + 4)), 0, manager).paddedPositions();
            }
            assertThat(unpacked).isPositive();
            // only the last, shorter block can be padded
            assertThat(packedPadding).isLessThan(16).isLessThan(unpacked);
        }
    }

    @Test
    void aBlockWithoutAnAnswerTokenIsDroppedAndCounted() {
        int[] promptOnly = new int[20];
        java.util.Arrays.fill(promptOnly, 3);
        Example longPrompt = new Example(promptOnly, 18, 20, false);
        Packing.Packed packed = Packing.pack(List.of(longPrompt), 8, EOS);
        // stream of 21: [0,8) and [8,16) are prompt, [16,21) holds the answer at 18, 19
        assertThat(packed.droppedWithoutAnswer()).isEqualTo(2);
        assertThat(packed.blocks()).hasSize(1);
        assertThat(packed.blocks().get(0).answerTokens()).isEqualTo(2);
    }
}
