package dev.finadvisor.training.dataset;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Counts tokens with a checkpoint's own tokenizer.json through llm's {@link Tokenizer} (Hugging
 * Face's Rust tokenizers, truncation off: DJL would cut at 512 tokens, hiding exactly the long
 * samples one counts to find). No special tokens are added: rendered prompts already carry the
 * ones their template puts there.
 */
public final class TokenCounter implements AutoCloseable {
    private final Tokenizer tokenizer;

    private TokenCounter(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** The tokenizer of the checkpoint in {@code modelDir} (its tokenizer.json). */
    public static TokenCounter open(Path modelDir) {
        if (!Files.isDirectory(modelDir)) {
            throw new UserError(modelDir + " is not a folder: --tokenizer takes a Hugging Face checkpoint folder holding tokenizer.json");
        }
        return new TokenCounter(Tokenizer.load(modelDir));
    }

    public int count(String text) {
        return tokenizer.encode(text, false).length;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
