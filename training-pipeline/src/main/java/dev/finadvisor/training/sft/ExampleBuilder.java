package dev.finadvisor.training.sft;

import dev.finadvisor.domain.prompt.PromptTemplate;
import dev.finadvisor.domain.prompt.RenderedPrompt;
import dev.finadvisor.domain.qa.QaSample;
import dev.finadvisor.llm.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Renders Q&A samples with the prompt template and tokenises them, finding the answer's tokens
 * without character offsets: the answer starts where the tokens of the whole text stop agreeing with
 * the tokens of the prompt alone (a token spanning the boundary counts as answer), and ends after
 * the tokens of the text up to the answer's end. Samples longer than max_seq_length are cut on
 * the right and counted; a sample whose answer starts past the cut cannot teach anything and is
 * dropped (also counted).
 */
public final class ExampleBuilder {
    /** What tokenising a set of samples did. */
    public record Stats(int samples, int examples, int truncated, int droppedNoAnswer, long tokens, long answerTokens) {}

    private final Tokenizer tokenizer;
    private final PromptTemplate template;
    private final int maxSeqLength;

    public ExampleBuilder(Tokenizer tokenizer, PromptTemplate template, int maxSeqLength) {
        this.tokenizer = tokenizer;
        this.template = template;
        this.maxSeqLength = maxSeqLength;
    }

    /** The examples of {@code samples} in order, with statistics. */
    public Built build(List<QaSample> samples) {
        List<Example> examples = new ArrayList<>();
        int truncated = 0;
        int dropped = 0;
        long tokens = 0;
        long answer = 0;
        for (QaSample s : samples) {
            Example e = build(s);
            if (e == null) {
                dropped++;
                truncated++;
                continue;
            }
            if (e.truncated()) truncated++;
            examples.add(e);
            tokens += e.tokens().length;
            answer += e.answerTokens();
        }
        return new Built(examples, new Stats(samples.size(), examples.size(), truncated, dropped, tokens, answer));
    }

    /** Examples and what building them did. */
    public record Built(List<Example> examples, Stats stats) {}

    /** One sample's example, or null when truncation leaves none of its answer. */
    public Example build(QaSample sample) {
        RenderedPrompt r = template.render(sample, true);
        String text = r.text();
        int[] full = tokenizer.encode(text, true);
        int[] prompt = tokenizer.encode(text.substring(0, r.answerStart()), true);
        int start = commonPrefix(prompt, full);
        int end = r.answerEnd() == text.length() ? full.length
                : Math.min(full.length, Math.max(start, tokenizer.encode(text.substring(0, r.answerEnd()), true).length));
        boolean truncated = full.length > maxSeqLength;
        if (truncated) {
            if (start >= maxSeqLength - 1) return null;
            full = java.util.Arrays.copyOf(full, maxSeqLength);
            end = Math.min(end, maxSeqLength);
        }
        if (full.length < 2) return null;
        return new Example(full, start, end, truncated);
    }

    private static int commonPrefix(int[] a, int[] b) {
        int n = Math.min(a.length, b.length);
        int i = 0;
        while (i < n && a[i] == b[i]) i++;
        return i;
    }
}
