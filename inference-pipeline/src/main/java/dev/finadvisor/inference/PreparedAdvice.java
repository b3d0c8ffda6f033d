package dev.finadvisor.inference;

import dev.finadvisor.retrieval.Hit;
import java.util.List;
import java.util.Map;

/**
 * A request made ready for the model: the cleaned template variables, the retrieval, the articles the
 * prompt cites, the rendered prompt and its token count, and how to sample.
 */
public record PreparedAdvice(Map<String, Object> templateVariables, Retrieval retrieval, List<Hit> cited, String prompt,
                             int promptTokens, Sampling sampling) {

    public List<Source> sources() {
        return cited.stream().map(h -> new Source(h.payload().headline(), h.payload().url(), h.payload().createdAt(),
                h.payload().symbols(), h.score())).toList();
    }
}
