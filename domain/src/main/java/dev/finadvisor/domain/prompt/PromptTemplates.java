package dev.finadvisor.domain.prompt;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.config.Suggest;
import java.nio.file.Path;
import java.util.List;

/** Finds a prompt template by name: the built-in {@code falcon}, {@code chatml}, {@code llama3}, or {@code model}. */
public final class PromptTemplates {
    /** Every name {@link #byName} accepts. */
    public static final List<String> NAMES = List.of(FalconTemplate.NAME, ChatMlTemplate.NAME, Llama3Template.NAME, ModelChatTemplate.NAME);

    private PromptTemplates() {}

    /**
     * The template called {@code name}; {@code model} reads the chat template of the checkpoint in
     * {@code checkpointDirOrNull}, the others ignore it.
     */
    public static PromptTemplate byName(String name, Path checkpointDirOrNull) {
        if (name == null) throw new UserError("no prompt template given; pick one of " + NAMES);
        switch (name) {
            case FalconTemplate.NAME: return new FalconTemplate();
            case ChatMlTemplate.NAME: return new ChatMlTemplate();
            case Llama3Template.NAME: return new Llama3Template();
            case ModelChatTemplate.NAME:
                if (checkpointDirOrNull == null) {
                    throw new UserError("prompt template 'model' reads the checkpoint's chat template, but no checkpoint folder was given");
                }
                return ModelChatTemplate.fromCheckpoint(checkpointDirOrNull);
            default:
                String hint = Suggest.nearest(name, NAMES).map(s -> " (did you mean '" + s + "'?)").orElse("");
                throw new UserError("unknown prompt template '" + name + "'" + hint + "; pick one of " + NAMES);
        }
    }
}
