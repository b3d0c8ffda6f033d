package dev.finadvisor.domain.prompt;

import dev.finadvisor.domain.qa.QaSample;

/**
 * The course's Falcon prompt, character for character.
 *
 * <p>Matched text: iusztinpaul/hands-on-llms,
 * {@code modules/training_pipeline/training_pipeline/prompt_templates/prompter.py} (commit 65eea49),
 * template "falcon": system {@code ">>INTRODUCTION<< {system_message}"} with "You are a helpful
 * assistant, with financial expertise.", context {@code ">>DOMAIN<< {user_context}\n{news_context}"},
 * chat history {@code ">>SUMMARY<< {chat_history}"}, {@code ">>QUESTION<< {question}"},
 * {@code ">>ANSWER<< {answer}"}, sections joined by {@code "\n"}, then eos {@code "<|endoftext|>"}.
 * Fields are inserted verbatim (no trimming), as there. The {@code >>SUMMARY<<} line is always
 * present, empty without history, because the course's training prompts carried it that way (a
 * model fine-tuned by the course expects it). History is rendered as LangChain's
 * {@code ConversationBufferWindowMemory} buffer, which filled {@code chat_history} in the course's
 * bot: {@code "Human: q\nAI: a"} lines.
 *
 * <p>One deliberate difference: the course's inference prompt ended with
 * {@code ">>QUESTION<< {question}<|endoftext|>"}, so the model was asked to continue past an
 * end-of-text without ever seeing {@code >>ANSWER<<}. Here the inference prompt is the training
 * prompt cut where the answer begins, {@code "...\n>>ANSWER<< "}, so both match.
 */
public record FalconTemplate() implements PromptTemplate {
    public static final String NAME = "falcon";
    static final String EOS = "<|endoftext|>";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String endOfAnswer() {
        return EOS;
    }

    @Override
    public RenderedPrompt render(QaSample sample, boolean withAnswer) {
        StringBuilder sb = new StringBuilder()
                .append(">>INTRODUCTION<< ").append(Conversation.SYSTEM_MESSAGE)
                .append("\n>>DOMAIN<< ").append(sample.aboutMe()).append('\n').append(sample.context())
                .append("\n>>SUMMARY<< ").append(history(sample))
                .append("\n>>QUESTION<< ").append(sample.question())
                .append("\n>>ANSWER<< ");
        if (!withAnswer) return RenderedPrompt.promptOnly(sb.toString());
        int start = sb.length();
        sb.append(Conversation.requireResponse(sample)).append(EOS);
        return new RenderedPrompt(sb.toString(), start, sb.length());
    }

    private static String history(QaSample sample) {
        StringBuilder sb = new StringBuilder();
        for (QaSample.Exchange turn : sample.chatHistory()) {
            if (sb.length() > 0) sb.append('\n');
            sb.append("Human: ").append(turn.question()).append("\nAI: ").append(turn.answer());
        }
        return sb.toString();
    }
}
