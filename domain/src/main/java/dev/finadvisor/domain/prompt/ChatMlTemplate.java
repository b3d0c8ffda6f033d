package dev.finadvisor.domain.prompt;

import dev.finadvisor.domain.qa.QaSample;

/**
 * ChatML, the official format of OpenAI's chat markup also used by Qwen and SmolLM:
 * {@code <|im_start|>ROLE\nCONTENT<|im_end|>\n} per turn, and {@code <|im_start|>assistant\n} where
 * the model answers. Contents go in verbatim; no BOS token. The answer's span ends with
 * {@code <|im_end|>}; the newline ChatML puts after it is left out because it follows the end of
 * the answer (the loss would never count it and generation stops before it).
 */
public record ChatMlTemplate() implements PromptTemplate {
    public static final String NAME = "chatml";
    static final String END = "<|im_end|>";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String endOfAnswer() {
        return END;
    }

    @Override
    public RenderedPrompt render(QaSample sample, boolean withAnswer) {
        StringBuilder sb = new StringBuilder();
        for (Conversation.Message m : Conversation.of(sample).messages()) {
            sb.append("<|im_start|>").append(m.role()).append('\n').append(m.content()).append(END).append('\n');
        }
        sb.append("<|im_start|>assistant\n");
        if (!withAnswer) return RenderedPrompt.promptOnly(sb.toString());
        int start = sb.length();
        sb.append(Conversation.requireResponse(sample)).append(END);
        return new RenderedPrompt(sb.toString(), start, sb.length());
    }
}
