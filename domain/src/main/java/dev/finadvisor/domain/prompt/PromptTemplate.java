package dev.finadvisor.domain.prompt;

import dev.finadvisor.domain.qa.QaSample;

/**
 * Turns a {@link QaSample} into the exact text a model sees, the same way at training and at
 * inference time. Get one with {@link PromptTemplates#byName}.
 */
public sealed interface PromptTemplate permits FalconTemplate, ChatMlTemplate, Llama3Template, ModelChatTemplate {

    /** The name {@link PromptTemplates#byName} knows this template by. */
    String name();

    /**
     * Renders a sample. With {@code withAnswer} the sample's response follows the prompt, ended by
     * {@link #endOfAnswer()}, and the returned span covers exactly those characters; without it the
     * text stops where the answer would begin.
     *
     * @throws IllegalArgumentException if {@code withAnswer} and the sample has no response
     */
    RenderedPrompt render(QaSample sample, boolean withAnswer);

    /** The marker that ends an answer: generation stops when the model writes it. */
    String endOfAnswer();

}
