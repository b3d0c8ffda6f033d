package dev.finadvisor.llm.model;

import java.util.function.Supplier;

/**
 * A model's Java decoder: built on the first decode step (null when it cannot run: no Vector API,
 * {@code -Dfinadvisor.decode=engine}, or a projection neither fp32 nor packed), rebuilt after a projection is
 * replaced, closed with the model (waiting for a step in progress, whose weights are about to be freed).
 */
final class DecoderSlot {
    /** One decode step of a batch of sequences over the model's weights in Java loops. */
    interface StepDecoder extends AutoCloseable {
        /** Appends {@code tokens[b]} at the next position of {@code caches[b]} and returns the logits after each. */
        float[][] step(int[] tokens, KvCache[] caches);

        @Override
        void close();
    }

    private StepDecoder decoder;
    private boolean built;
    private boolean closed;

    synchronized StepDecoder get(Supplier<StepDecoder> build) {
        if (closed) throw new IllegalStateException("the model was closed");
        if (!built) {
            built = true;
            decoder = JavaDecode.enabled() ? build.get() : null;
        }
        return decoder;
    }

    /** Drops the decoder (a projection changed); the next step builds it again. */
    synchronized void reset() {
        if (decoder != null) decoder.close();
        decoder = null;
        built = false;
    }

    synchronized void close() {
        closed = true;
        reset();
    }
}
