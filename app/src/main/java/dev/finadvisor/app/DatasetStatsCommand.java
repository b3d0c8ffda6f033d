package dev.finadvisor.app;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.prompt.PromptTemplate;
import dev.finadvisor.domain.prompt.PromptTemplates;
import dev.finadvisor.domain.qa.QaDataset;
import dev.finadvisor.training.dataset.DatasetStats;
import dev.finadvisor.training.dataset.TokenCounter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code dataset stats}: validates a Q&A file and describes it. */
@Command(name = "stats", mixinStandardHelpOptions = true,
        description = {"Validate a Q&A dataset (every problem is listed at once) and print what it holds: record count, "
                + "word counts per field, chat histories, extra fields, duplicates, what cleaning would change, and, with "
                + "--tokenizer, token counts of the rendered samples and how many a maximum sequence length would cut."})
final class DatasetStatsCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "The dataset: a JSON array of records or JSON Lines.")
    Path file;

    @Option(names = "--tokenizer", paramLabel = "MODEL_DIR", description = "Count tokens with this checkpoint folder's tokenizer.json.")
    Path tokenizer;

    @Option(names = "--max-seq-length", paramLabel = "N", description = "Report the samples longer than N tokens (needs --tokenizer).")
    Integer maxSeqLength;

    @Option(names = "--template", paramLabel = "NAME", defaultValue = "falcon",
            description = "Prompt template the samples are rendered with for counting: falcon, chatml, llama3 or model (the --tokenizer checkpoint's chat template); default: ${DEFAULT-VALUE}.")
    String template;

    @Option(names = "--allow-missing-response", description = "Accept records without a response (requests, evaluation questions).")
    boolean allowMissingResponse;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (maxSeqLength != null && tokenizer == null) {
            throw new UserError("--max-seq-length needs --tokenizer MODEL_DIR: token counts come from the model's tokenizer");
        }
        if (maxSeqLength != null && maxSeqLength < 1) throw new UserError("--max-seq-length must be at least 1, is " + maxSeqLength);
        PromptTemplate prompt = PromptTemplates.byName(template, tokenizer);
        QaDataset data = QaDataset.load(file, allowMissingResponse ? QaDataset.Options.INFERENCE : QaDataset.Options.TRAINING);
        DatasetStats stats;
        if (tokenizer == null) {
            stats = DatasetStats.of(data, null, null, 0);
        } else {
            try (TokenCounter counter = TokenCounter.open(tokenizer)) {
                stats = DatasetStats.of(data, prompt, counter, maxSeqLength == null ? 0 : maxSeqLength);
            }
        }
        spec.commandLine().getOut().print(stats.report());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
