package dev.finadvisor.llm.train;

import static dev.finadvisor.llm.train.TorchReference.floats;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class TokenCrossEntropyTest {
    private static final JsonNode REF = TorchReference.load().get("cross_entropy");

    @Test
    void maskedMeanAndGradientMatchTorchCrossEntropyWithIgnoredLabels() {
        int batch = REF.get("batch").asInt();
        int seq = REF.get("seq").asInt();
        int vocab = REF.get("vocab").asInt();
        long[] labels = new long[batch * seq];
        float[] mask = new float[batch * seq];
        long tokens = 0;
        for (int i = 0; i < labels.length; i++) {
            labels[i] = REF.get("labels").get(i).asLong();
            mask[i] = REF.get("mask").get(i).asInt();
            tokens += (long) mask[i];
        }
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray logits = m.create(floats(REF.get("logits")), new Shape(batch, seq, vocab));
            logits.setRequiresGradient(true);
            NDArray targets = m.create(labels, new Shape(batch, seq));
            NDArray maskArray = m.create(mask, new Shape(batch, seq));
            NDArray inverseCount = m.create(1f / tokens); // a live tensor, never a scalar op, under autograd
            double sum;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray lossSum = TokenCrossEntropy.sum(logits, targets, maskArray);
                sum = lossSum.getFloat();
                gc.backward(lossSum.mul(inverseCount));
            }
            assertThat(sum / tokens).isCloseTo(REF.get("mean").asDouble(), within(1e-6));
            assertThat(TokenCrossEntropy.perplexity(sum, tokens)).isCloseTo(REF.get("perplexity").asDouble(), within(1e-5));
            float[] expected = floats(REF.get("grad"));
            try (NDArray g = logits.getGradient()) {
                float[] actual = g.toFloatArray();
                for (int i = 0; i < expected.length; i++) {
                    assertThat(actual[i]).as("dlogits[%d]", i).isCloseTo(expected[i], within(1e-7f));
                    if (mask[i / vocab] == 0) assertThat(actual[i]).isZero(); // prompt and padding get no gradient
                }
            }
        }
    }

    @Test
    void gradientAtTheAnswerRowsMatchesTorchCrossEntropy() {
        int vocab = REF.get("vocab").asInt();
        int positions = REF.get("batch").asInt() * REF.get("seq").asInt();
        float[] all = floats(REF.get("logits"));
        float[] expected = floats(REF.get("grad"));
        int[] rows = java.util.stream.IntStream.range(0, positions).filter(i -> REF.get("mask").get(i).asInt() == 1).toArray();
        assertThat(rows.length).isBetween(2, positions - 1); // some positions masked, some counted
        float[] logits = new float[rows.length * vocab];
        long[] targets = new long[rows.length];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(all, rows[r] * vocab, logits, r * vocab, vocab);
            targets[r] = REF.get("labels").get(rows[r]).asLong();
        }
        try (NDManager m = NDManager.newBaseManager()) {
            for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) { // fp32: the one-hot written in Java
                NDArray x = m.create(logits, new Shape(rows.length, vocab)).toType(type, false);
                TokenCrossEntropy.WithGradient loss = TokenCrossEntropy.sumAndGradient(x, m.create(targets), 1f / rows.length);
                assertThat(loss.sum() / rows.length).as("%s mean", type).isCloseTo(REF.get("mean").asDouble(), within(1e-6));
                float[] actual = loss.gradient().toType(DataType.FLOAT32, false).toFloatArray();
                for (int r = 0; r < rows.length; r++) {
                    for (int v = 0; v < vocab; v++) {
                        assertThat(actual[r * vocab + v]).as("%s dlogits[%d, %d]", type, rows[r], v)
                                .isCloseTo(expected[rows[r] * vocab + v], within(1e-7f));
                    }
                }
            }
        }
    }

    @Test
    void onlyMaskedPositionsCountAndFloat64Works() {
        try (NDManager m = NDManager.newBaseManager()) {
            // uniform logits: every counted token costs log(vocab); the huge logit at a masked position is ignored
            NDArray logits = m.zeros(new Shape(1, 3, 4), DataType.FLOAT64);
            logits.set(new ai.djl.ndarray.index.NDIndex("0, 0, 1"), 1000);
            NDArray targets = m.create(new long[] {0, 2, 3}, new Shape(1, 3));
            NDArray mask = m.create(new double[] {0, 1, 1}, new Shape(1, 3));
            double sum = TokenCrossEntropy.sum(logits, targets, mask).getDouble();
            assertThat(sum).isCloseTo(2 * Math.log(4), within(1e-12));
            assertThat(TokenCrossEntropy.perplexity(sum, 2)).isCloseTo(4.0, within(1e-12));
            assertThat(TokenCrossEntropy.perplexity(0, 0)).isNaN();
        }
    }
}
