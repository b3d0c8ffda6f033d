package dev.finadvisor.inference;

import dev.finadvisor.domain.qa.QaSample.Exchange;
import java.util.List;

/**
 * What a user asks: a few lines about themselves, a question, earlier exchanges and options; {@code adapter} names the
 * served model that answers (null: the server's default).
 */
public record AdviceRequest(String aboutMe, String question, List<Exchange> history, AdviceOptions options, String adapter) {
    public AdviceRequest {
        history = history == null ? List.of() : List.copyOf(history);
    }

    public AdviceRequest(String aboutMe, String question, List<Exchange> history, AdviceOptions options) {
        this(aboutMe, question, history, options, null);
    }
}
