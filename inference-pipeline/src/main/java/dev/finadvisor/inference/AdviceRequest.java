package dev.finadvisor.inference;

import dev.finadvisor.domain.qa.QaSample.Exchange;
import java.util.List;

/** What a user asks: a few lines about themselves, a question, earlier exchanges and options. */
public record AdviceRequest(String aboutMe, String question, List<Exchange> history, AdviceOptions options) {
    public AdviceRequest {
        history = history == null ? List.of() : List.copyOf(history);
    }
}
