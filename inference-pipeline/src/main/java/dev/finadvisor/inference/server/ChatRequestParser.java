package dev.finadvisor.inference.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.inference.AdviceOptions;
import dev.finadvisor.inference.AdviceRequest;
import dev.finadvisor.domain.qa.QaSample.Exchange;
import dev.finadvisor.inference.ServeConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * Maps {@code POST /v1/chat/completions} onto the advice chain: system (and developer) messages are
 * "about me", the last user message is the question, earlier user/assistant pairs are history.
 * Fields OpenAI clients send that do not apply here (top_p, user, tools, ...) are ignored, as OpenAI's
 * own server ignores what it does not use; {@code n} other than 1 is refused.
 */
final class ChatRequestParser {
    private final ObjectMapper json;
    private final ServeConfig config;
    private final AdviceRequestParser advice;

    ChatRequestParser(ObjectMapper json, ServeConfig config, AdviceRequestParser advice) {
        this.json = json;
        this.config = config;
        this.advice = advice;
    }

    ChatRequest parse(byte[] body) {
        JsonNode root = JsonFields.parseObject(json, body);
        String model = JsonFields.requiredText(root, "model", "model", 500);
        JsonNode messages = root.get("messages");
        if (JsonFields.absent(messages)) throw ApiException.invalid("messages", "is missing");
        if (!messages.isArray()) throw ApiException.invalid("messages", "must be an array, got " + JsonFields.kind(messages));
        if (messages.isEmpty()) throw ApiException.invalid("messages", "is empty; send at least one user message");
        var limits = config.limits();
        List<String> system = new ArrayList<>();
        List<String[]> turns = new ArrayList<>(); // role, content
        for (int i = 0; i < messages.size(); i++) {
            String at = "messages[" + i + "]";
            JsonNode m = messages.get(i);
            if (!m.isObject()) throw ApiException.invalid(at, "must be an object {role, content}, got " + JsonFields.kind(m));
            String role = JsonFields.requiredText(m, "role", at + ".role", 20);
            String content = content(m.get("content"), at + ".content",
                    role.equals("assistant") ? limits.history_answer_max_chars() : Math.max(limits.question_max_chars(), limits.about_me_max_chars()));
            switch (role) {
                case "system", "developer" -> system.add(content);
                case "user", "assistant" -> turns.add(new String[] {role, content});
                default -> throw ApiException.invalid(at + ".role", "is '" + role + "'; supported roles: system, developer, user, assistant");
            }
        }
        if (turns.isEmpty() || !turns.get(turns.size() - 1)[0].equals("user")) {
            throw ApiException.invalid("messages", "must end with a user message (the question)");
        }
        String question = turns.remove(turns.size() - 1)[1];
        JsonFields.requireVisible(question, "messages[" + (messages.size() - 1) + "].content");
        if (question.length() > limits.question_max_chars()) {
            throw ApiException.invalid("messages[" + (messages.size() - 1) + "].content",
                    "is " + question.length() + " characters long; the limit is " + limits.question_max_chars());
        }
        String aboutMe = String.join("\n", system);
        if (aboutMe.length() > limits.about_me_max_chars()) {
            throw ApiException.invalid("messages", "system messages are " + aboutMe.length() + " characters long; the limit is " + limits.about_me_max_chars());
        }
        List<Exchange> history = new ArrayList<>();
        String pendingQuestion = null;
        for (String[] t : turns) {
            if (t[0].equals("user")) {
                pendingQuestion = pendingQuestion == null ? t[1] : pendingQuestion + "\n" + t[1];
            } else if (pendingQuestion != null) {
                history.add(new Exchange(pendingQuestion, t[1]));
                pendingQuestion = null;
            } // an assistant message with no question before it has nothing to pair with
        }
        if (history.size() > limits.history_max_items()) {
            throw ApiException.invalid("messages", "hold " + history.size() + " earlier exchanges; the limit is " + limits.history_max_items());
        }

        AdviceOptions d = advice.defaults();
        Integer maxTokens = JsonFields.optionalInt(root, "max_completion_tokens", "max_completion_tokens", 1,
                limits.max_new_tokens_cap(), "the server's cap (limits.max_new_tokens_cap)");
        if (maxTokens == null) {
            maxTokens = JsonFields.optionalInt(root, "max_tokens", "max_tokens", 1, limits.max_new_tokens_cap(),
                    "the server's cap (limits.max_new_tokens_cap)");
        }
        Double temperature = JsonFields.optionalNumber(root, "temperature", "temperature", 0.0, 2.0);
        Double topP = JsonFields.optionalNumber(root, "top_p", "top_p", 0.0, 1.0);
        Long seed = JsonFields.optionalLong(root, "seed", "seed");
        Integer n = JsonFields.optionalInt(root, "n", "n", 1, 1, "the only supported value");
        assert n == null || n == 1;
        Boolean stream = JsonFields.optionalBoolean(root, "stream", "stream");
        boolean includeUsage = false;
        JsonNode so = root.get("stream_options");
        if (!JsonFields.absent(so)) {
            if (!so.isObject()) throw ApiException.invalid("stream_options", "must be an object, got " + JsonFields.kind(so));
            Boolean u = JsonFields.optionalBoolean(so, "include_usage", "stream_options.include_usage");
            includeUsage = u != null && u;
        }
        AdviceOptions options = new AdviceOptions(maxTokens != null ? maxTokens : d.maxNewTokens(),
                temperature != null ? temperature : d.temperature(), topP != null ? topP : d.topP(), seed, d.k(), d.since());
        return new ChatRequest(model, new AdviceRequest(aboutMe, question, history, options), stream != null && stream, includeUsage);
    }

    /** A message's content: a string, or an array of {@code {"type": "text", "text": ...}} parts. */
    private static String content(JsonNode node, String path, int maxChars) {
        if (JsonFields.absent(node)) return "";
        if (node.isTextual()) return JsonFields.text(node, path, maxChars);
        if (!node.isArray()) throw ApiException.invalid(path, "must be a string or an array of text parts, got " + JsonFields.kind(node));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < node.size(); i++) {
            JsonNode part = node.get(i);
            String at = path + "[" + i + "]";
            if (!part.isObject()) throw ApiException.invalid(at, "must be an object {type, text}, got " + JsonFields.kind(part));
            String type = JsonFields.requiredText(part, "type", at + ".type", 40);
            if (!type.equals("text")) throw ApiException.invalid(at + ".type", "is '" + type + "'; only text parts are supported");
            if (sb.length() > 0) sb.append('\n');
            sb.append(JsonFields.requiredText(part, "text", at + ".text", maxChars));
        }
        if (sb.length() > maxChars) throw ApiException.invalid(path, "is " + sb.length() + " characters long; the limit is " + maxChars);
        return sb.toString();
    }
}
