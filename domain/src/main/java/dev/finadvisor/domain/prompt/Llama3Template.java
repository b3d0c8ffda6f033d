package dev.finadvisor.domain.prompt;

import dev.finadvisor.domain.qa.QaSample;

/**
 * Meta's Llama 3 instruct format, as its tokenizer_config.json chat template renders it:
 * {@code <|begin_of_text|>} once, then per turn
 * {@code <|start_header_id|>ROLE<|end_header_id|>\n\nCONTENT<|eot_id|>} with CONTENT trimmed of
 * surrounding whitespace (the official template applies {@code | trim}), and
 * {@code <|start_header_id|>assistant<|end_header_id|>\n\n} where the model answers. The answer's
 * span is the trimmed response plus {@code <|eot_id|>}.
 *
 * <p>The text starts with the BOS token, so tokenize it without adding special tokens again.
 */
public record Llama3Template() implements PromptTemplate {
    public static final String NAME = "llama3";
    static final String BOS = "<|begin_of_text|>";
    static final String EOT = "<|eot_id|>";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String endOfAnswer() {
        return EOT;
    }

    @Override
    public RenderedPrompt render(QaSample sample, boolean withAnswer) {
        StringBuilder sb = new StringBuilder(BOS);
        for (Conversation.Message m : Conversation.of(sample).messages()) {
            header(sb, m.role()).append(m.content().strip()).append(EOT);
        }
        header(sb, "assistant");
        if (!withAnswer) return RenderedPrompt.promptOnly(sb.toString());
        int start = sb.length();
        sb.append(Conversation.requireResponse(sample).strip()).append(EOT);
        return new RenderedPrompt(sb.toString(), start, sb.length());
    }

    private static StringBuilder header(StringBuilder sb, String role) {
        return sb.append("<|start_header_id|>").append(role).append("<|end_header_id|>\n\n");
    }
}
