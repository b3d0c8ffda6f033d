package dev.finadvisor.llm.model;

import java.util.function.Supplier;

/**
 * A model's Java decoder: built on the first decode step (null when it cannot run: no Vector API,
 * {@code -Dfinadvisor.decode=engine}, or a projection neither fp32 nor packed), rebuilt after a projection is
 * replaced, closed with the model (waiting for a step in progress, whose weights are about to be freed).
 */
final class DecoderSlot {
    /** One decode step over the model's weights in Java loops. */
    interface StepDecoder extends AutoCloseable {
        float[] step(int token, KvCache cache);

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
