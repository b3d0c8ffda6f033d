package dev.finadvisor.domain.prompt;

import java.util.Objects;

/**
 * A prompt rendered by a {@link PromptTemplate}: the text, and where in it the answer lies.
 *
 * <p>Rendered with the answer, {@code text.substring(answerStart, answerEnd)} is exactly the answer
 * plus the template's end-of-sequence marker: the only characters a fine-tuning loss counts.
 * Rendered without it, {@code text} ends where the answer would begin and
 * {@code answerStart == answerEnd == text.length()}.
 */
public record RenderedPrompt(String text, int answerStart, int answerEnd) {
    public RenderedPrompt {
        Objects.requireNonNull(text, "text");
        if (answerStart < 0 || answerStart > answerEnd || answerEnd > text.length()) {
            throw new IllegalArgumentException("answer span [" + answerStart + ", " + answerEnd
                    + ") does not lie inside a text of " + text.length() + " characters");
        }
    }

    /** A prompt that stops where the model's answer begins. */
    static RenderedPrompt promptOnly(String text) {
        return new RenderedPrompt(text, text.length(), text.length());
    }

    /** The text before the answer: what the model is given. */
    public String prompt() {
        return text.substring(0, answerStart);
    }

    /** The answer plus the end-of-sequence marker (empty when rendered without the answer). */
    public String answer() {
        return text.substring(answerStart, answerEnd);
    }

    public boolean hasAnswer() {
        return answerEnd > answerStart;
    }
}
