package dev.finadvisor.domain.qa;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One question-and-answer sample in the course's format: who asks ({@code about_me}), the news
 * behind the question ({@code context}), the question, the advice given ({@code response}; null at
 * inference), earlier turns of the conversation, and any other fields the file carried.
 *
 * <p>JSON names: {@code about_me, context, question, response, chat_history}; fields the format does
 * not know are kept in {@code extra} and written back out beside the known ones. Read files through
 * {@link QaDataset#load}, which validates every record.
 */
@JsonPropertyOrder({"about_me", "context", "question", "response", "chat_history"})
public record QaSample(
        @JsonProperty("about_me") String aboutMe,
        @JsonProperty("context") String context,
        @JsonProperty("question") String question,
        @JsonProperty("response") @JsonInclude(JsonInclude.Include.NON_NULL) String response,
        @JsonProperty("chat_history") @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Exchange> chatHistory,
        @JsonAnyGetter @JsonAnySetter Map<String, Object> extra) {

    /** One earlier turn of the conversation: what the user asked and what the advisor answered. */
    public record Exchange(@JsonProperty("question") String question, @JsonProperty("answer") String answer) {
        public Exchange {
            Objects.requireNonNull(question, "question");
            Objects.requireNonNull(answer, "answer");
        }
    }

    public QaSample {
        Objects.requireNonNull(aboutMe, "aboutMe");
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(question, "question");
        chatHistory = chatHistory == null ? List.of() : List.copyOf(chatHistory);
        // Insertion order is the file's order, so a sample written back out keeps its layout.
        extra = extra == null || extra.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(extra));
    }

    /** A training sample with no history and no extra fields. */
    public QaSample(String aboutMe, String context, String question, String response) {
        this(aboutMe, context, question, response, List.of(), Map.of());
    }

    /** An inference request: everything but the response. */
    public static QaSample forInference(String aboutMe, String context, String question, List<Exchange> chatHistory) {
        return new QaSample(aboutMe, context, question, null, chatHistory, Map.of());
    }

    public boolean hasResponse() {
        return response != null;
    }

    public QaSample withResponse(String newResponse) {
        return new QaSample(aboutMe, context, question, newResponse, chatHistory, extra);
    }

    public QaSample withChatHistory(List<Exchange> newHistory) {
        return new QaSample(aboutMe, context, question, response, newHistory, extra);
    }
}
