package dev.finadvisor.domain.prompt;

import dev.finadvisor.domain.qa.QaSample;
import java.util.ArrayList;
import java.util.List;

/**
 * A sample as a chat: the system turn (who the advisor is, who the user is, the news), earlier
 * exchanges, the question. Every chat-style template renders these same turns, so switching
 * template changes only the markup around them.
 */
record Conversation(List<Message> messages) {

    /** One turn: {@code role} is {@code system}, {@code user} or {@code assistant}. */
    record Message(String role, String content) {}

    /** The advisor's introduction, shared with the Falcon template's {@code >>INTRODUCTION<<}. */
    static final String SYSTEM_MESSAGE = "You are a helpful assistant, with financial expertise.";

    /**
     * The user's profile and the news go in the system turn rather than beside the question: like the
     * course's {@code >>DOMAIN<<} section they frame the whole conversation, and the earlier exchanges
     * then stay plain question/answer turns.
     */
    static Conversation of(QaSample sample) {
        List<Message> messages = new ArrayList<>();
        messages.add(new Message("system", SYSTEM_MESSAGE
                + "\n\nAbout the user:\n" + sample.aboutMe()
                + "\n\nRelevant news:\n" + sample.context()));
        for (QaSample.Exchange turn : sample.chatHistory()) {
            messages.add(new Message("user", turn.question()));
            messages.add(new Message("assistant", turn.answer()));
        }
        messages.add(new Message("user", sample.question()));
        return new Conversation(List.copyOf(messages));
    }

    /** The sample's response, or an error naming the sample when it has none. */
    static String requireResponse(QaSample sample) {
        if (sample.response() == null) {
            String q = sample.question().strip().replace('\n', ' ');
            throw new IllegalArgumentException("cannot render the answer of a sample without a response (question: '"
                    + (q.length() <= 60 ? q : q.substring(0, 57) + "...") + "')");
        }
        return sample.response();
    }
}
