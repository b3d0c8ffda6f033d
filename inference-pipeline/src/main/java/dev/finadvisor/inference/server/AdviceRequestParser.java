package dev.finadvisor.inference.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.inference.AdviceOptions;
import dev.finadvisor.inference.AdviceRequest;
import dev.finadvisor.domain.qa.QaSample.Exchange;
import dev.finadvisor.inference.ServeConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Turns a {@code POST /v1/advice} body into an {@link AdviceRequest}, or a 400 naming the field. */
public final class AdviceRequestParser {
    private static final List<String> FIELDS = List.of("about_me", "question", "history", "options", "adapter");
    private static final List<String> HISTORY_FIELDS = List.of("question", "answer");
    private static final List<String> OPTION_FIELDS = List.of("max_new_tokens", "temperature", "top_p", "seed", "k", "since");

    private final ObjectMapper json;
    private final ServeConfig config;

    public AdviceRequestParser(ObjectMapper json, ServeConfig config) {
        this.json = json;
        this.config = config;
    }

    public AdviceRequest parse(byte[] body) {
        JsonNode root = JsonFields.parseObject(json, body);
        JsonFields.rejectUnknown(root, "", FIELDS);
        var limits = config.limits();
        String aboutMe = JsonFields.requiredText(root, "about_me", "about_me", limits.about_me_max_chars());
        String question = JsonFields.requiredText(root, "question", "question", limits.question_max_chars());
        List<Exchange> history = history(root.get("history"));
        String adapter = JsonFields.absent(root.get("adapter")) ? null : JsonFields.text(root.get("adapter"), "adapter", 500);
        return new AdviceRequest(aboutMe, question, history, options(root.get("options")), adapter);
    }

    private List<Exchange> history(JsonNode node) {
        if (JsonFields.absent(node)) return List.of();
        if (!node.isArray()) throw ApiException.invalid("history", "must be an array of {question, answer}, got " + JsonFields.kind(node));
        var limits = config.limits();
        if (node.size() > limits.history_max_items()) {
            throw ApiException.invalid("history", "has " + node.size() + " items; the limit is " + limits.history_max_items());
        }
        List<Exchange> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            String at = "history[" + i + "]";
            JsonNode item = node.get(i);
            if (!item.isObject()) throw ApiException.invalid(at, "must be an object {question, answer}, got " + JsonFields.kind(item));
            JsonFields.rejectUnknown(item, at + ".", HISTORY_FIELDS);
            out.add(new Exchange(
                    JsonFields.requiredText(item, "question", at + ".question", limits.question_max_chars()),
                    JsonFields.requiredText(item, "answer", at + ".answer", limits.history_answer_max_chars())));
        }
        return out;
    }

    private AdviceOptions options(JsonNode node) {
        if (JsonFields.absent(node)) return defaults();
        if (!node.isObject()) throw ApiException.invalid("options", "must be an object, got " + JsonFields.kind(node));
        JsonFields.rejectUnknown(node, "options.", OPTION_FIELDS);
        AdviceOptions d = defaults();
        Integer maxNew = JsonFields.optionalInt(node, "max_new_tokens", "options.max_new_tokens", 1,
                config.limits().max_new_tokens_cap(), "the server's cap (limits.max_new_tokens_cap)");
        Double temperature = JsonFields.optionalNumber(node, "temperature", "options.temperature", 0.0, 5.0);
        Double topP = JsonFields.optionalNumber(node, "top_p", "options.top_p", 0.0, 1.0);
        Long seed = JsonFields.optionalLong(node, "seed", "options.seed");
        Integer k = JsonFields.optionalInt(node, "k", "options.k", 0, config.retrieval().max_k(), "the server's maximum (retrieval.max_k)");
        Duration since = JsonFields.optionalWindow(node, "since", "options.since");
        return new AdviceOptions(maxNew != null ? maxNew : d.maxNewTokens(), temperature != null ? temperature : d.temperature(),
                topP != null ? topP : d.topP(), seed, k != null ? k : d.k(), since != null ? since : d.since());
    }

    /** The options of a request that sets none. */
    public AdviceOptions defaults() {
        return new AdviceOptions(config.generation().max_new_tokens(), config.generation().temperature(), config.generation().top_p(),
                null, config.retrieval().k(), config.since());
    }
}
