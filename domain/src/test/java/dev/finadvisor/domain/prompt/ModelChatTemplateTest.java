package dev.finadvisor.domain.prompt;

import static dev.finadvisor.domain.prompt.PromptTemplateGoldenTest.PLAIN;
import static dev.finadvisor.domain.prompt.PromptTemplateGoldenTest.WITH_HISTORY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.qa.QaSample;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real chat templates from Hugging Face checkpoints, rendered through jinjava. */
class ModelChatTemplateTest {
    // meta-llama/Meta-Llama-3-8B-Instruct tokenizer_config.json chat_template.
    static final String LLAMA3 = "{% set loop_messages = messages %}{% for message in loop_messages %}"
            + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}"
            + "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

    // The ChatML template of SmolLM/Qwen-style checkpoints (no default system turn).
    static final String CHATML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    // google/gemma-2b-it: rejects the system role, trims contents, calls the assistant 'model'.
    static final String GEMMA = "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
            + "{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
            + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
            + "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
            + "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}"
            + "{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}";

    // mistralai/Mistral-7B-Instruct-v0.1: the answer ends with eos_token.
    static final String MISTRAL = "{{ bos_token }}{% for message in messages %}"
            + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
            + "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
            + "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
            + "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}";

    // Qwen2.5-Instruct's template without the bodies of its tool-call branches: whitespace control,
    // attribute access on messages, a default system turn, loop.first.
    static final String QWEN25 = """
            {%- if tools %}
                {{- '<|im_start|>system\\n' }}
                {{- 'tools are not rendered in this test' }}
            {%- else %}
                {%- if messages[0]['role'] == 'system' %}
                    {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
                {%- else %}
                    {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}
                {%- endif %}
            {%- endif %}
            {%- for message in messages %}
                {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
                    {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
                {%- elif message.role == "assistant" %}
                    {{- '<|im_start|>' + message.role }}
                {%- endif %}
            {%- endfor %}
            {%- if add_generation_prompt %}
                {{- '<|im_start|>assistant\\n' }}
            {%- endif %}
            """;

    @Test
    void qwenStyleTemplateWithWhitespaceControlRendersChatMl() {
        ModelChatTemplate qwen = ModelChatTemplate.of(QWEN25, null, "<|im_end|>");
        for (QaSample s : List.of(PLAIN, WITH_HISTORY)) {
            for (boolean withAnswer : new boolean[] {true, false}) {
                assertThat(qwen.render(s, withAnswer)).isEqualTo(new ChatMlTemplate().render(s, withAnswer));
            }
        }
    }

    @Test
    void officialLlama3TemplateRendersExactlyWhatTheBuiltInLlama3Renders() {
        ModelChatTemplate model = ModelChatTemplate.of(LLAMA3, "<|begin_of_text|>", "<|end_of_text|>");
        for (QaSample s : List.of(PLAIN, WITH_HISTORY)) {
            for (boolean withAnswer : new boolean[] {true, false}) {
                assertThat(model.render(s, withAnswer)).isEqualTo(new Llama3Template().render(s, withAnswer));
            }
        }
        assertThat(model.endOfAnswer()).isEqualTo("<|eot_id|>");
    }

    @Test
    void officialChatMlTemplateRendersExactlyWhatTheBuiltInChatMlRenders() {
        ModelChatTemplate model = ModelChatTemplate.of(CHATML, null, "<|im_end|>");
        for (QaSample s : List.of(PLAIN, WITH_HISTORY)) {
            for (boolean withAnswer : new boolean[] {true, false}) {
                assertThat(model.render(s, withAnswer)).isEqualTo(new ChatMlTemplate().render(s, withAnswer));
            }
        }
    }

    @Test
    void templateThatRejectsTheSystemRoleGetsItInTheFirstUserTurn() {
        ModelChatTemplate gemma = ModelChatTemplate.of(GEMMA, "<bos>", "<eos>");
        RenderedPrompt p = gemma.render(PLAIN, true);
        assertThat(p.text()).isEqualTo("<bos><start_of_turn>user\n"
                + "You are a helpful assistant, with financial expertise.\n\n"
                + "About the user:\n" + PLAIN.aboutMe() + "\n\nRelevant news:\n" + PLAIN.context() + "\n\n"
                + PLAIN.question() + "<end_of_turn>\n<start_of_turn>model\n" + PLAIN.response() + "<end_of_turn>");
        assertThat(p.answer()).isEqualTo(PLAIN.response() + "<end_of_turn>");
        assertThat(gemma.render(PLAIN, false).text()).isEqualTo(p.prompt());
    }

    @Test
    void answerEndedByEosTokenCoversTheEosToken() {
        ModelChatTemplate mistral = ModelChatTemplate.of(MISTRAL, "<s>", "</s>");
        RenderedPrompt p = mistral.render(WITH_HISTORY, true);
        assertThat(p.answer()).isEqualTo(PLAIN.response() + "</s>");
        assertThat(p.text()).startsWith("<s>[INST] You are a helpful assistant").endsWith(" [/INST]" + PLAIN.response() + "</s>");
        assertThat(p.text()).contains("\n\nShould I buy bonds? [/INST]Short-term ones, for cash you need soon.</s>[INST] And stocks?");
        RenderedPrompt infer = mistral.render(WITH_HISTORY, false);
        assertThat(infer.text()).isEqualTo(p.prompt()).endsWith(" [/INST]");
        assertThat(infer.answerStart()).isEqualTo(infer.text().length());
    }

    @Test
    void templateThatEndsAnAnswerWithNothingGetsTheEosToken() {
        ModelChatTemplate bare = ModelChatTemplate.of("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}", null, "</s>");
        RenderedPrompt p = bare.render(PLAIN, true);
        assertThat(p.answer()).isEqualTo(PLAIN.response() + "</s>");
        assertThat(p.text()).endsWith("\nassistant: " + PLAIN.response() + "</s>");
        assertThat(bare.endOfAnswer()).isEqualTo("</s>");
    }

    @Test
    void templateThatEndsAnAnswerWithNothingAndNoEosTokenIsRefused() {
        ModelChatTemplate bare = ModelChatTemplate.of("{% for m in messages %}{{ m['content'] }}\n{% endfor %}", null, null);
        assertThatThrownBy(() -> bare.render(PLAIN, true))
                .isInstanceOf(UserError.class).hasMessageContaining("never learn to stop");
    }

    @Test
    void templateThatRaisesForOtherReasonsIsAClearError() {
        ModelChatTemplate strict = ModelChatTemplate.of("{{ raise_exception('Only one turn, please') }}", null, null);
        assertThatThrownBy(() -> strict.render(PLAIN, false))
                .isInstanceOf(UserError.class).hasMessageContaining("rejected the conversation: Only one turn, please");
    }

    @Test
    void readsTheChatTemplateAndAddedTokenObjectsFromTheCheckpoint(@TempDir Path dir) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = json.createObjectNode();
        config.put("chat_template", LLAMA3);
        config.putObject("bos_token").put("__type", "AddedToken").put("content", "<|begin_of_text|>");
        config.put("eos_token", "<|eot_id|>");
        Files.writeString(dir.resolve("tokenizer_config.json"), json.writeValueAsString(config));
        PromptTemplate t = PromptTemplates.byName("model", dir);
        assertThat(t.render(PLAIN, true)).isEqualTo(new Llama3Template().render(PLAIN, true));
    }

    @Test
    void namedTemplateListAndSeparateJinjaFileAreRead(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"x\"}, {\"name\": \"default\", \"template\": "
                        + new ObjectMapper().writeValueAsString(CHATML) + "}]}");
        assertThat(PromptTemplates.byName("model", dir).render(PLAIN, false)).isEqualTo(new ChatMlTemplate().render(PLAIN, false));

        Path other = Files.createDirectory(dir.resolve("other"));
        Files.writeString(other.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|im_end|>\"}");
        Files.writeString(other.resolve("chat_template.jinja"), CHATML);
        assertThat(PromptTemplates.byName("model", other).render(PLAIN, true)).isEqualTo(new ChatMlTemplate().render(PLAIN, true));
    }

    @Test
    void checkpointWithoutChatTemplateIsAClearError(@TempDir Path dir) throws IOException {
        assertThatThrownBy(() -> PromptTemplates.byName("model", dir))
                .isInstanceOf(UserError.class).hasMessageContaining("tokenizer_config.json not found");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"</s>\"}");
        assertThatThrownBy(() -> PromptTemplates.byName("model", dir))
                .isInstanceOf(UserError.class).hasMessageContaining("has no chat_template");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{not json");
        assertThatThrownBy(() -> PromptTemplates.byName("model", dir))
                .isInstanceOf(UserError.class).hasMessageContaining("is not valid JSON");
    }

    @Test
    void brokenTemplateSyntaxIsAClearError() {
        ModelChatTemplate broken = ModelChatTemplate.of("{% for m in messages %}{{ m['content'] }}", null, null);
        assertThatThrownBy(() -> broken.render(PLAIN, false))
                .isInstanceOf(UserError.class).hasMessageContaining("failed to render");
    }
}
