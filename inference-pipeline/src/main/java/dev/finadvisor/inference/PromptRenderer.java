package dev.finadvisor.inference;

import java.util.List;

/** Renders the prompt exactly as the adapter saw it in training, ending where the answer begins. */
public interface PromptRenderer {
    /** The template's name (falcon, chatml, llama3, model). */
    String name();

    String render(String aboutMe, String context, String question, List<PastExchange> history);
}
