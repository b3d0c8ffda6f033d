package dev.finadvisor.retrieval;

import java.util.List;

/** Turns text into unit-length vectors (all-MiniLM-L6-v2, 384-d, by default). */
public interface Embedder {
    int dimension();

    /** How many word pieces the model's own tokenizer makes of the text (without special tokens). */
    int countTokens(String text);

    /** The longest input, in word pieces, that the model sees whole. */
    int maxTokens();

    float[] embed(String text);

    List<float[]> embedAll(List<String> texts);
}
