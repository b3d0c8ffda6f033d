package dev.finadvisor.app;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.RandomCheckpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code random-model}: a Hugging Face checkpoint with random weights, to run every pipeline offline without a download. */
@Command(name = "random-model", mixinStandardHelpOptions = true,
        description = "Write a Hugging Face checkpoint folder with random weights and a small byte-level BPE tokenizer: "
                + "a base model for trying the pipelines offline (its text is noise until trained) and for benchmarks.")
final class RandomModelCommand implements Callable<Integer> {
    @Option(names = "--preset", defaultValue = "llama", paramLabel = "NAME",
            description = "llama, llama3, mistral, qwen2, falcon, falcon-new, falcon-seq (tiny, ~0.2M parameters), bench100m (~110M, fp32) "
                    + "bench1b (~1.1B, bf16, TinyLlama's shape), falcon7b (Falcon-7B's exact config, bf16, 14 GB in two shards) "
                    + "or llama7b (Llama-2-7B's shape, bf16, 13.5 GB in two shards) (default: ${DEFAULT-VALUE}).")
    String preset;

    @Option(names = "--context", paramLabel = "TOKENS", description = "Context length (max_position_embeddings); default: the preset's.")
    Integer context;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "Seed of the weights (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The checkpoint folder to create (must not exist or be empty).")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        RandomCheckpoint c;
        try {
            c = RandomCheckpoint.preset(preset);
        } catch (IllegalArgumentException e) {
            throw new UserError("--preset: " + e.getMessage());
        }
        if (context != null) {
            if (context < 16 || context > 1 << 20) throw new UserError("--context " + context + ": must be between 16 and 1048576");
            c = new RandomCheckpoint(c.architecture(), c.hiddenSize(), c.intermediateSize(), c.layers(), c.heads(), c.kvHeads(),
                    c.vocabSize(), context, c.tieEmbeddings(), c.extraConfig(), c.dtype(), c.initStd(), c.seed());
        }
        if (Files.isDirectory(out)) {
            try (var entries = Files.list(out)) {
                if (entries.findAny().isPresent()) throw new UserError(out + " exists and is not empty");
            } catch (UncheckedIOException e) {
                throw new UserError("cannot read " + out + ": " + e.getCause().getMessage());
            }
        }
        c.withSeed(seed).write(out);
        spec.commandLine().getOut().printf("wrote %s (%s, hidden %d, %d layers, context %d, random weights, seed %d)%n",
                out, c.architecture(), c.hiddenSize(), c.layers(), c.maxPositions(), seed);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
