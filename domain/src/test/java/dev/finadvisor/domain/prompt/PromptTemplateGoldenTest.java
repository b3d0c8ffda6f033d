package dev.finadvisor.domain.prompt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.qa.QaSample;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The exact text of every built-in template, with and without answer and history. */
class PromptTemplateGoldenTest {
    static final String ABOUT = "I'm a 26 year old investor.\nI want to explore opportunities in emerging markets.";
    static final String NEWS = "Eastern European economies attract investments with improving infrastructure.";
    static final String QUESTION = "How do you view the growth potential of Eastern European markets?";
    static final String ANSWER = "They have room to grow: keep it to a slice of a diversified portfolio.";
    static final List<QaSample.Exchange> HISTORY = List.of(
            new QaSample.Exchange("Should I buy bonds?", "Short-term ones, for cash you need soon."),
            new QaSample.Exchange("And stocks?", "Index funds for the long run."));

    static final QaSample PLAIN = new QaSample(ABOUT, NEWS, QUESTION, ANSWER);
    static final QaSample WITH_HISTORY = PLAIN.withChatHistory(HISTORY);

    // --- falcon: the course's training_pipeline prompt_templates/prompter.py, commit 65eea49 ---

    static final String FALCON_HEAD = ">>INTRODUCTION<< You are a helpful assistant, with financial expertise.\n"
            + ">>DOMAIN<< I'm a 26 year old investor.\nI want to explore opportunities in emerging markets.\n"
            + "Eastern European economies attract investments with improving infrastructure.\n";

    @Test
    void falconWithAnswerWithoutHistoryIsTheCoursesTrainingPrompt() {
        RenderedPrompt p = new FalconTemplate().render(PLAIN, true);
        assertThat(p.text()).isEqualTo(FALCON_HEAD
                + ">>SUMMARY<< \n"
                + ">>QUESTION<< How do you view the growth potential of Eastern European markets?\n"
                + ">>ANSWER<< They have room to grow: keep it to a slice of a diversified portfolio.<|endoftext|>");
        assertThat(p.answer()).isEqualTo(ANSWER + "<|endoftext|>");
        assertThat(p.answerEnd()).isEqualTo(p.text().length());
    }

    @Test
    void falconWithoutAnswerStopsWhereTheAnswerBegins() {
        RenderedPrompt p = new FalconTemplate().render(PLAIN, false);
        assertThat(p.text()).isEqualTo(FALCON_HEAD
                + ">>SUMMARY<< \n"
                + ">>QUESTION<< How do you view the growth potential of Eastern European markets?\n"
                + ">>ANSWER<< ");
        assertPromptOnly(p);
        assertThat(new FalconTemplate().render(PLAIN, true).prompt()).isEqualTo(p.text());
    }

    @Test
    void falconRendersHistoryAsLangChainBufferInTheSummary() {
        String summary = ">>SUMMARY<< Human: Should I buy bonds?\nAI: Short-term ones, for cash you need soon.\n"
                + "Human: And stocks?\nAI: Index funds for the long run.\n";
        String question = ">>QUESTION<< How do you view the growth potential of Eastern European markets?\n";
        assertThat(new FalconTemplate().render(WITH_HISTORY, true).text()).isEqualTo(FALCON_HEAD + summary + question
                + ">>ANSWER<< They have room to grow: keep it to a slice of a diversified portfolio.<|endoftext|>");
        RenderedPrompt prompt = new FalconTemplate().render(WITH_HISTORY, false);
        assertThat(prompt.text()).isEqualTo(FALCON_HEAD + summary + question + ">>ANSWER<< ");
        assertPromptOnly(prompt);
    }

    @Test
    void falconKeepsFieldsVerbatimAsTheCourseDid() {
        QaSample raw = new QaSample("me", "news", "\nWhy?", "\nBecause.");
        assertThat(new FalconTemplate().render(raw, true).text()).endsWith(
                ">>QUESTION<< \nWhy?\n>>ANSWER<< \nBecause.<|endoftext|>");
        assertThat(new FalconTemplate().render(raw, true).answer()).isEqualTo("\nBecause.<|endoftext|>");
    }

    // --- chatml ---

    static final String CHATML_SYSTEM = "<|im_start|>system\nYou are a helpful assistant, with financial expertise.\n\n"
            + "About the user:\nI'm a 26 year old investor.\nI want to explore opportunities in emerging markets.\n\n"
            + "Relevant news:\nEastern European economies attract investments with improving infrastructure.<|im_end|>\n";
    static final String CHATML_QUESTION = "<|im_start|>user\nHow do you view the growth potential of Eastern European markets?<|im_end|>\n"
            + "<|im_start|>assistant\n";

    @Test
    void chatmlGolden() {
        ChatMlTemplate t = new ChatMlTemplate();
        RenderedPrompt train = t.render(PLAIN, true);
        assertThat(train.text()).isEqualTo(CHATML_SYSTEM + CHATML_QUESTION
                + "They have room to grow: keep it to a slice of a diversified portfolio.<|im_end|>");
        assertThat(train.answer()).isEqualTo(ANSWER + "<|im_end|>");
        RenderedPrompt infer = t.render(PLAIN, false);
        assertThat(infer.text()).isEqualTo(CHATML_SYSTEM + CHATML_QUESTION);
        assertPromptOnly(infer);
    }

    @Test
    void chatmlGoldenWithHistory() {
        String history = "<|im_start|>user\nShould I buy bonds?<|im_end|>\n"
                + "<|im_start|>assistant\nShort-term ones, for cash you need soon.<|im_end|>\n"
                + "<|im_start|>user\nAnd stocks?<|im_end|>\n"
                + "<|im_start|>assistant\nIndex funds for the long run.<|im_end|>\n";
        ChatMlTemplate t = new ChatMlTemplate();
        RenderedPrompt train = t.render(WITH_HISTORY, true);
        assertThat(train.text()).isEqualTo(CHATML_SYSTEM + history + CHATML_QUESTION + ANSWER + "<|im_end|>");
        assertThat(train.answer()).isEqualTo(ANSWER + "<|im_end|>");
        assertThat(t.render(WITH_HISTORY, false).text()).isEqualTo(CHATML_SYSTEM + history + CHATML_QUESTION);
    }

    // --- llama3 ---

    static final String LLAMA3_SYSTEM = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
            + "You are a helpful assistant, with financial expertise.\n\n"
            + "About the user:\nI'm a 26 year old investor.\nI want to explore opportunities in emerging markets.\n\n"
            + "Relevant news:\nEastern European economies attract investments with improving infrastructure.<|eot_id|>";
    static final String LLAMA3_QUESTION = "<|start_header_id|>user<|end_header_id|>\n\n"
            + "How do you view the growth potential of Eastern European markets?<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n";

    @Test
    void llama3Golden() {
        Llama3Template t = new Llama3Template();
        RenderedPrompt train = t.render(PLAIN, true);
        assertThat(train.text()).isEqualTo(LLAMA3_SYSTEM + LLAMA3_QUESTION
                + "They have room to grow: keep it to a slice of a diversified portfolio.<|eot_id|>");
        assertThat(train.answer()).isEqualTo(ANSWER + "<|eot_id|>");
        RenderedPrompt infer = t.render(PLAIN, false);
        assertThat(infer.text()).isEqualTo(LLAMA3_SYSTEM + LLAMA3_QUESTION);
        assertPromptOnly(infer);
    }

    @Test
    void llama3GoldenWithHistoryTrimsContentsLikeTheOfficialTemplate() {
        QaSample padded = new QaSample(ABOUT, NEWS, "\n" + QUESTION + "  ", "\n" + ANSWER + "\n")
                .withChatHistory(HISTORY);
        String history = "<|start_header_id|>user<|end_header_id|>\n\nShould I buy bonds?<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nShort-term ones, for cash you need soon.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nAnd stocks?<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nIndex funds for the long run.<|eot_id|>";
        Llama3Template t = new Llama3Template();
        RenderedPrompt train = t.render(padded, true);
        assertThat(train.text()).isEqualTo(LLAMA3_SYSTEM + history + LLAMA3_QUESTION + ANSWER + "<|eot_id|>");
        assertThat(train.answer()).isEqualTo(ANSWER + "<|eot_id|>");
        assertThat(t.render(padded, false).text()).isEqualTo(LLAMA3_SYSTEM + history + LLAMA3_QUESTION);
    }

    // --- all templates ---

    @Test
    void everyTemplatesTrainingTextIsItsInferenceTextPlusTheAnswer() {
        for (PromptTemplate t : List.of(new FalconTemplate(), new ChatMlTemplate(), new Llama3Template())) {
            for (QaSample s : List.of(PLAIN, WITH_HISTORY)) {
                RenderedPrompt train = t.render(s, true);
                RenderedPrompt infer = t.render(s, false);
                assertThat(train.prompt()).as(t.name()).isEqualTo(infer.text());
                assertThat(train.answer()).as(t.name()).endsWith(t.endOfAnswer());
                assertThat(train.answer()).as(t.name()).isEqualTo(ANSWER + t.endOfAnswer());
            }
        }
    }

    @Test
    void renderingTheAnswerOfASampleWithoutResponseNamesTheQuestion() {
        QaSample request = QaSample.forInference(ABOUT, NEWS, QUESTION, List.of());
        assertThatThrownBy(() -> new ChatMlTemplate().render(request, true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("without a response").hasMessageContaining("Eastern European");
        assertThat(new ChatMlTemplate().render(request, false).text()).isEqualTo(CHATML_SYSTEM + CHATML_QUESTION);
    }

    @Test
    void byNameFindsBuiltInsAndSuggestsForTypos() {
        assertThat(PromptTemplates.byName("falcon", null)).isInstanceOf(FalconTemplate.class);
        assertThat(PromptTemplates.byName("chatml", null)).isInstanceOf(ChatMlTemplate.class);
        assertThat(PromptTemplates.byName("llama3", null)).isInstanceOf(Llama3Template.class);
        assertThatThrownBy(() -> PromptTemplates.byName("falcom", null))
                .isInstanceOf(UserError.class).hasMessageContaining("did you mean 'falcon'");
        assertThatThrownBy(() -> PromptTemplates.byName("model", null))
                .isInstanceOf(UserError.class).hasMessageContaining("no checkpoint folder");
    }

    static void assertPromptOnly(RenderedPrompt p) {
        assertThat(p.answerStart()).isEqualTo(p.text().length());
        assertThat(p.answerEnd()).isEqualTo(p.text().length());
        assertThat(p.hasAnswer()).isFalse();
    }
}
