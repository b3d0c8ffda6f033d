package dev.finadvisor.training.dataset;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.finadvisor.domain.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Counts tokens with a checkpoint's own tokenizer.json (Hugging Face's Rust tokenizers through DJL).
 * Truncation is off (DJL truncates at 512 tokens by default, which would hide exactly the long
 * samples one counts to find) and no special tokens are added: rendered prompts already carry
 * the ones their template puts there.
 */
public final class TokenCounter implements AutoCloseable {
    private final HuggingFaceTokenizer tokenizer;

    private TokenCounter(HuggingFaceTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** The tokenizer of the checkpoint in {@code modelDir} (its tokenizer.json). */
    public static TokenCounter open(Path modelDir) {
        Path file = Files.isDirectory(modelDir) ? modelDir.resolve("tokenizer.json") : modelDir;
        if (!Files.isRegularFile(file)) {
            throw new UserError(file + " not found: --tokenizer takes a Hugging Face checkpoint folder holding tokenizer.json");
        }
        try {
            return new TokenCounter(HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optTruncation(false)
                    .optPadding(false)
                    .optAddSpecialTokens(false)
                    .build());
        } catch (IOException | RuntimeException e) {
            throw new UserError("cannot load tokenizer " + file + ": " + e.getMessage(), e);
        }
    }

    public int count(String text) {
        return tokenizer.encode(text, false, false).getIds().length;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
