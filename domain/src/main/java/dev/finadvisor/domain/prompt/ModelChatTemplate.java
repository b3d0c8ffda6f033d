package dev.finadvisor.domain.prompt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.qa.QaSample;
import dev.finadvisor.domain.util.JsonErrors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A checkpoint's own chat template (the Jinja {@code chat_template} of its tokenizer_config.json, or
 * chat_template.jinja / chat_template.json beside it), rendered with jinjava the way Hugging Face's
 * {@code apply_chat_template} renders it: {@code trim_blocks} and {@code lstrip_blocks} on, with
 * {@code messages}, {@code bos_token}, {@code eos_token}, {@code add_generation_prompt} and
 * {@code raise_exception}.
 *
 * <p>To find the answer, the conversation is rendered once with a sentinel as the assistant's last
 * message: what precedes the sentinel is the prompt (used unchanged at inference, so training and
 * inference see the same framing), what follows it up to trailing whitespace is the end marker
 * (for example {@code <|im_end|>}). A template that ends an assistant turn with nothing gets the
 * tokenizer's {@code eos_token} as its marker, or the model would never learn to stop. A template
 * that rejects the system role (Gemma, Mistral) gets the system text at the top of the first user
 * turn instead (templates word that rejection differently, so any {@code raise_exception} on a
 * conversation with a system turn gets one retry without it).
 */
public final class ModelChatTemplate implements PromptTemplate {
    public static final String NAME = "model";

    // Letters only, so trim/strip filters and escaping leave it intact.
    private static final String SENTINEL = "FINADVISORANSWERSENTINELQX";
    private static final ObjectMapper JSON = new ObjectMapper();

    // Chat templates are written against Python's Jinja2. These overrides make jinjava behave like it:
    // {{- -}} trimming on expressions (Qwen, SmolLM use it everywhere), filters binding tighter than
    // '+', strict whitespace-control parsing, a template's final newline dropped, Python-style
    // iteration and printing. "Whitespace required within tokens" is the one override that is not
    // Jinja2's behaviour: with it, {{'a' + b}} without inner spaces is printed verbatim.
    private static final LegacyOverrides JINJA2_BEHAVIOUR = LegacyOverrides.Builder.from(LegacyOverrides.ALL)
            .withWhitespaceRequiredWithinTokens(false)
            .build();

    private final String source;
    private final String template;
    private final String bosToken;
    private final String eosToken;
    private final Jinjava jinjava;

    /** Marks a {@code raise_exception} call from the template, to tell it from a broken template. */
    static final class TemplateRaised extends RuntimeException {
        TemplateRaised(String message) {
            super(message);
        }
    }

    ModelChatTemplate(String source, String template, String bosToken, String eosToken) {
        this.source = source;
        this.template = template;
        this.bosToken = bosToken == null ? "" : bosToken;
        this.eosToken = eosToken == null ? "" : eosToken;
        this.jinjava = new Jinjava(JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withLegacyOverrides(JINJA2_BEHAVIOUR)
                .build());
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                ModelChatTemplate.class, "raiseException", String.class));
    }

    /** Reads the chat template and BOS/EOS tokens of a Hugging Face checkpoint folder. */
    public static ModelChatTemplate fromCheckpoint(Path checkpointDir) {
        Path config = checkpointDir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(config)) {
            throw new UserError(config + " not found: template 'model' reads the checkpoint's chat template from it;"
                    + " give a Hugging Face checkpoint folder or pick template falcon, chatml or llama3");
        }
        JsonNode root;
        try {
            root = JSON.readTree(config.toFile());
        } catch (IOException e) {
            throw new UserError(config + " is not valid JSON: " + JsonErrors.describe(e));
        }
        String template = chatTemplate(root.get("chat_template"), config);
        String source = config + " chat_template";
        if (template == null) {
            Path jinja = checkpointDir.resolve("chat_template.jinja");
            Path json = checkpointDir.resolve("chat_template.json");
            try {
                if (Files.isRegularFile(jinja)) {
                    template = Files.readString(jinja);
                    source = jinja.toString();
                } else if (Files.isRegularFile(json)) {
                    template = chatTemplate(JSON.readTree(json.toFile()).get("chat_template"), json);
                    source = json + " chat_template";
                }
            } catch (IOException e) {
                throw new UserError("cannot read the chat template of " + checkpointDir + ": " + e.getMessage());
            }
        }
        if (template == null) {
            throw new UserError(config + " has no chat_template (nor is there a chat_template.jinja beside it):"
                    + " this checkpoint defines no chat format; pick template falcon, chatml or llama3");
        }
        return new ModelChatTemplate(source, template, token(root, "bos_token"), token(root, "eos_token"));
    }

    /** A template given as text, e.g. for tests or a template file of one's own. */
    public static ModelChatTemplate of(String template, String bosToken, String eosToken) {
        return new ModelChatTemplate("chat template", template, bosToken, eosToken);
    }

    // chat_template is a string, or a list of {name, template} of which "default" is the chat one.
    private static String chatTemplate(JsonNode node, Path file) {
        if (node == null || node.isNull()) return null;
        if (node.isTextual()) return node.asText();
        if (node.isArray()) {
            for (JsonNode named : node) {
                if ("default".equals(named.path("name").asText())) return named.path("template").asText();
            }
            throw new UserError(file + ": chat_template is a list without a template named 'default'");
        }
        throw new UserError(file + ": chat_template is " + node.getNodeType().toString().toLowerCase(Locale.ROOT)
                + ", expected a string or a list of {name, template}");
    }

    // Tokens are a string, or an AddedToken object {"content": "<s>", ...}.
    private static String token(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) return null;
        if (node.isTextual()) return node.asText();
        if (node.isObject() && node.path("content").isTextual()) return node.get("content").asText();
        return null;
    }

    /** Called by templates as {@code raise_exception('...')}. */
    public static String raiseException(String message) {
        throw new TemplateRaised(message);
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The text after the answer, up to trailing whitespace; the tokenizer's EOS if the template adds none. */
    @Override
    public String endOfAnswer() {
        return render(QaSample.forInference("", "", "q", List.of()).withResponse("a"), true).answer().substring(1);
    }

    /** Where the template puts the answer: the prompt before it, the marker after it and what trails that. */
    private record Layout(String prompt, String endMarker, String trailing, boolean markerAdded) {}

    private Layout layout(List<Conversation.Message> messages) {
        List<Conversation.Message> withSentinel = new ArrayList<>(messages);
        withSentinel.add(new Conversation.Message("assistant", SENTINEL));
        String rendered = renderMessages(withSentinel);
        int at = rendered.indexOf(SENTINEL);
        if (at < 0 || rendered.indexOf(SENTINEL, at + 1) >= 0) {
            throw new UserError(source + " does not render the assistant's message exactly once, so the answer"
                    + " cannot be located; pick template falcon, chatml or llama3");
        }
        String after = rendered.substring(at + SENTINEL.length());
        String marker = after.stripTrailing();
        if (marker.isEmpty()) {
            if (eosToken.isEmpty()) {
                throw new UserError(source + " puts nothing after the assistant's answer and the tokenizer has no"
                        + " eos_token, so a fine-tuned model would never learn to stop; pick template falcon, chatml or llama3");
            }
            return new Layout(rendered.substring(0, at), eosToken, after, true);
        }
        return new Layout(rendered.substring(0, at), marker, after.substring(marker.length()), false);
    }

    @Override
    public RenderedPrompt render(QaSample sample, boolean withAnswer) {
        List<Conversation.Message> messages = Conversation.of(sample).messages();
        Layout layout;
        try {
            layout = layout(messages);
        } catch (TemplateRaised e) {
            // Templates reject a system turn in their own words ("System role not supported",
            // "roles must alternate"): retry once without it before giving up.
            try {
                messages = foldSystemIntoFirstUser(messages);
                layout = layout(messages);
            } catch (TemplateRaised again) {
                throw new UserError(source + " rejected the conversation: " + e.getMessage());
            }
        }
        if (!withAnswer) return RenderedPrompt.promptOnly(layout.prompt);

        String response = Conversation.requireResponse(sample);
        List<Conversation.Message> full = new ArrayList<>(messages);
        full.add(new Conversation.Message("assistant", response));
        String rendered = renderMessages(full);
        String tail = layout.markerAdded ? layout.trailing : layout.endMarker + layout.trailing;
        if (!rendered.startsWith(layout.prompt) || !rendered.endsWith(tail)
                || rendered.length() < layout.prompt.length() + tail.length()) {
            throw new UserError(source + " renders the conversation differently depending on the answer's text,"
                    + " so the answer cannot be located; pick template falcon, chatml or llama3");
        }
        String answer = rendered.substring(layout.prompt.length(), rendered.length() - tail.length());
        if (!answer.strip().equals(response.strip())) {
            throw new UserError(source + " changes the answer's text beyond trimming whitespace (rendered '"
                    + abbreviate(answer) + "'); the loss would train on text the sample does not hold");
        }
        String text = layout.prompt + answer + layout.endMarker;
        return new RenderedPrompt(text, layout.prompt.length(), text.length());
    }

    private String renderMessages(List<Conversation.Message> messages) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (Conversation.Message m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            list.add(map);
        }
        Map<String, Object> bindings = new LinkedHashMap<>();
        bindings.put("messages", list);
        bindings.put("bos_token", bosToken);
        bindings.put("eos_token", eosToken);
        // Always rendered with the assistant's turn present (a sentinel at inference), so no generation prompt.
        bindings.put("add_generation_prompt", false);
        RenderResult result = jinjava.renderForResult(template, bindings);
        for (TemplateError error : result.getErrors()) {
            Throwable cause = error.getException();
            while (cause != null && !(cause instanceof TemplateRaised)) cause = cause.getCause();
            if (cause != null) throw (TemplateRaised) cause;
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new UserError(source + " failed to render: " + error.getMessage()
                        + (error.getLineno() > 0 ? " (template line " + error.getLineno() + ")" : ""));
            }
        }
        return result.getOutput();
    }

    private static List<Conversation.Message> foldSystemIntoFirstUser(List<Conversation.Message> messages) {
        List<Conversation.Message> out = new ArrayList<>();
        String system = null;
        for (Conversation.Message m : messages) {
            if (m.role().equals("system")) {
                system = system == null ? m.content() : system + "\n\n" + m.content();
            } else if (system != null && m.role().equals("user")) {
                out.add(new Conversation.Message("user", system + "\n\n" + m.content()));
                system = null;
            } else {
                out.add(m);
            }
        }
        return out;
    }

    private static String abbreviate(String s) {
        String oneLine = s.strip().replace('\n', ' ');
        return oneLine.length() <= 60 ? oneLine : oneLine.substring(0, 57) + "...";
    }

    @Override
    public String toString() {
        return "ModelChatTemplate[" + source + "]";
    }
}
