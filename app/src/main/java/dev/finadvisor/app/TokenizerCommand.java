package dev.finadvisor.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.tokenizer.Tokenizer;
import dev.finadvisor.training.dataset.Corpus;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code finadvisor tokenizer train}: a byte-level BPE tokenizer learned from a corpus, in Hugging Face's format. */
@Command(name = "tokenizer", mixinStandardHelpOptions = true, description = "Tokenizers for models of our own.",
        subcommands = TokenizerCommand.Train.class)
final class TokenizerCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = {"Learn a byte-level BPE tokenizer (the GPT-2 / Llama-3 kind: every UTF-8 text encodes) from a corpus and write "
                    + "tokenizer.json and tokenizer_config.json, as Hugging Face has them, into --out: <pad> 0, <s> 1, </s> 2, "
                    + "<|im_start|> 3, <|im_end|> 4, the 256 bytes, then the most frequent merges until --vocab-size (--eos spells token 2 otherwise).",
                    "Corpus files: plain text, or JSON Lines / a JSON array whose objects' string fields are the text (Q&A samples, news)."})
    static final class Train implements Callable<Integer> {
        @Option(names = "--corpus", required = true, paramLabel = "FILE", description = "Text to learn from (repeatable).")
        List<Path> corpus = new ArrayList<>();

        @Option(names = "--vocab-size", required = true, paramLabel = "N", description = "Tokens in all (at least 261: the specials and the bytes).")
        int vocabSize;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for tokenizer.json and tokenizer_config.json (created).")
        Path out;

        @Option(names = "--max-length", paramLabel = "N", defaultValue = "2048", description = "model_max_length in tokenizer_config.json (default: ${DEFAULT-VALUE}).")
        int maxLength;

        @Option(names = "--no-bos", description = "Do not prepend <s> when encoding with special tokens (Falcon's way; Llama's is to prepend it).")
        boolean noBos;

        @Option(names = "--eos", paramLabel = "TEXT", defaultValue = RandomCheckpoint.EOS,
                description = "How the end-of-sequence token (id 2) is spelt (default: ${DEFAULT-VALUE}); <|endoftext|> is the falcon template's "
                        + "end marker, so a model pretrained with this tokenizer ends answers in that template as it ends documents.")
        String eos;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            PrintWriter stdout = spec.commandLine().getOut();
            int least = RandomCheckpoint.SPECIALS.size() + 256;
            if (vocabSize < least) throw new UserError("--vocab-size is " + vocabSize + ", must be at least " + least + " (the specials and the 256 bytes)");
            StringBuilder text = new StringBuilder();
            for (String doc : Corpus.documents(corpus, "--corpus")) text.append(doc).append('\n');
            if (text.toString().isBlank()) throw new UserError("--corpus: the files hold no text to learn from");
            long t0 = System.nanoTime();
            try {
                RandomCheckpoint.writeTokenizer(out, text.toString(), vocabSize, !noBos, maxLength, eos);
            } catch (IllegalArgumentException e) {
                throw new UserError("--eos: " + e.getMessage());
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            JsonNode model = new ObjectMapper().readTree(out.resolve("tokenizer.json").toFile()).get("model");
            int merges = model.get("merges").size();
            int filler = vocabSize - least - merges;
            try (Tokenizer tok = Tokenizer.load(out)) {
                long bytes = text.toString().getBytes(StandardCharsets.UTF_8).length;
                long tokens = tok.encode(text.toString(), false).length;
                stdout.printf(Locale.ROOT, "%s: %d tokens (%d merges learned%s) from %,d bytes of text in %.1f s; the corpus encodes to %,d tokens, %.2f bytes a token%n",
                        out.resolve("tokenizer.json"), vocabSize, merges, filler > 0 ? ", " + filler + " unused fillers: merging stopped early, with no pair seen twice left or a merge that would repeat a token" : "",
                        bytes, seconds, tokens, (double) bytes / tokens);
            }
            stdout.flush();
            return 0;
        }
    }
}
