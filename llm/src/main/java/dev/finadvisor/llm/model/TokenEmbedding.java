package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import dev.finadvisor.llm.EngineMemory;
import dev.finadvisor.llm.lowbit.PackedWeight;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/** The token embedding table {@code [vocab, hidden]}: an fp32 engine tensor, or packed like the projections. */
sealed interface TokenEmbedding permits TokenEmbedding.Engine, TokenEmbedding.Packed {
    /** The embeddings {@code [batch, seq, hidden]} of token ids {@code [batch, seq]}, in the ids' manager. */
    NDArray embed(NDArray ids);

    /** Token {@code token}'s embedding into {@code into}. */
    void row(int token, float[] into);

    /** The table as the output head of a model that ties the two. */
    Linear asHead(PackedLinear.Scratch scratch);

    /** An fp32 engine tensor (also a model parameter, trainable or tied to the head). */
    record Engine(NDArray table) implements TokenEmbedding {
        @Override
        public NDArray embed(NDArray ids) {
            return ids.getNDArrayInternal().embedding(ids, table, SparseFormat.DENSE).singletonOrThrow();
        }

        @Override
        public void row(int token, float[] into) {
            ByteBuffer memory = EngineMemory.floats(table); // null above 2 GiB: read through the engine
            if (memory != null) memory.asFloatBuffer().get(token * into.length, into, 0, into.length);
            else System.arraycopy(table.get(token).toFloatArray(), 0, into, 0, into.length);
        }

        @Override
        public Linear asHead(PackedLinear.Scratch scratch) {
            return new DenseLinear(table, null);
        }
    }

    /** Packed rows, each dequantised when its token comes. */
    record Packed(PackedWeight table) implements TokenEmbedding {
        @Override
        public NDArray embed(NDArray ids) {
            long[] tokens = ids.toLongArray();
            int hidden = table.cols();
            float[] out = new float[tokens.length * hidden];
            for (int i = 0; i < tokens.length; i++) table.dequantize(checked(tokens[i]), 1, FloatBuffer.wrap(out, i * hidden, hidden));
            long[] shape = ids.getShape().getShape();
            return ids.getManager().create(out, new Shape(shape[0], shape[1], hidden));
        }

        @Override
        public void row(int token, float[] into) {
            table.dequantize(checked(token), 1, FloatBuffer.wrap(into));
        }

        private int checked(long token) {
            if (token < 0 || token >= table.rows()) throw new IndexOutOfBoundsException("token id " + token + " outside 0.." + (table.rows() - 1));
            return (int) token;
        }

        @Override
        public Linear asHead(PackedLinear.Scratch scratch) {
            return new PackedLinear(table, null, scratch);
        }
    }
}
