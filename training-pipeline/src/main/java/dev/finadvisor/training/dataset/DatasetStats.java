package dev.finadvisor.training.dataset;

import dev.finadvisor.domain.prompt.PromptTemplate;
import dev.finadvisor.domain.prompt.RenderedPrompt;
import dev.finadvisor.domain.qa.QaCleaner;
import dev.finadvisor.domain.qa.QaDataset;
import dev.finadvisor.domain.qa.QaDuplicates;
import dev.finadvisor.domain.qa.QaSample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * What a Q&A dataset holds before one trains on it: field lengths, conversations, extra fields,
 * duplicates, what cleaning would change and, given a tokenizer, how many tokens each rendered
 * sample takes and how many a maximum sequence length would cut.
 */
public record DatasetStats(
        int records,
        QaDataset.Format format,
        Map<String, Summary> words,
        int withHistory,
        int withoutResponse,
        Map<String, Integer> extraFields,
        List<QaDuplicates.Group> duplicates,
        int changedByCleaning,
        TokenStats tokens) {

    /** A distribution: min, median, 95th percentile, max, mean. */
    public record Summary(int min, int median, int p95, int max, double mean) {
        static Summary of(int[] values) {
            if (values.length == 0) return new Summary(0, 0, 0, 0, 0);
            int[] v = values.clone();
            Arrays.sort(v);
            return new Summary(v[0], v[(v.length - 1) / 2], v[(int) Math.ceil(0.95 * v.length) - 1], v[v.length - 1],
                    Arrays.stream(v).average().orElse(0));
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "min %d, median %d, p95 %d, max %d, mean %.1f", min, median, p95, max, mean);
        }
    }

    /**
     * Token counts of the samples rendered with {@code template} (with their answers):
     * {@code overLimit} samples exceed {@code maxSeqLength} (0: no limit given) and would be cut,
     * {@code answerLost} of them so much that not one answer token remains to train on.
     */
    public record TokenStats(String template, Summary prompt, Summary answer, Summary total, int maxSeqLength,
            int overLimit, int answerLost, List<Integer> overLimitRecords) {}

    /** Statistics of {@code data}; tokens only when {@code tokens} and {@code template} are given. */
    public static DatasetStats of(QaDataset data, PromptTemplate template, TokenCounter tokens, int maxSeqLength) {
        Map<String, Summary> words = new java.util.LinkedHashMap<>();
        words.put("about_me", Summary.of(count(data, QaSample::aboutMe)));
        words.put("context", Summary.of(count(data, QaSample::context)));
        words.put("question", Summary.of(count(data, QaSample::question)));
        words.put("response", Summary.of(count(data, QaSample::response)));
        Map<String, Integer> extra = new TreeMap<>();
        int withHistory = 0;
        int withoutResponse = 0;
        for (QaSample s : data) {
            if (!s.chatHistory().isEmpty()) withHistory++;
            if (!s.hasResponse()) withoutResponse++;
            for (String k : s.extra().keySet()) extra.merge(k, 1, Integer::sum);
        }
        TokenStats tokenStats = tokens == null || template == null ? null : tokens(data, template, tokens, maxSeqLength);
        return new DatasetStats(data.size(), data.format(), words, withHistory, withoutResponse, extra,
                QaDuplicates.find(data), QaCleaner.clean(data).changed(), tokenStats);
    }

    static TokenStats tokens(QaDataset data, PromptTemplate template, TokenCounter tokens, int maxSeqLength) {
        int n = data.size();
        int[] prompt = new int[n];
        int[] answer = new int[n];
        int[] total = new int[n];
        int over = 0;
        int lost = 0;
        List<Integer> overRecords = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            QaSample s = data.get(i);
            RenderedPrompt r = template.render(s, s.hasResponse());
            prompt[i] = tokens.count(r.prompt());
            total[i] = tokens.count(r.text());
            answer[i] = Math.max(0, total[i] - prompt[i]);
            if (maxSeqLength > 0 && total[i] > maxSeqLength) {
                over++;
                overRecords.add(i + 1);
                if (prompt[i] >= maxSeqLength) lost++;
            }
        }
        return new TokenStats(template.name(), Summary.of(prompt), Summary.of(answer), Summary.of(total), maxSeqLength,
                over, lost, overRecords);
    }

    private static int[] count(List<QaSample> data, Function<QaSample, String> field) {
        return data.stream().map(field).filter(s -> s != null).mapToInt(s -> s.isBlank() ? 0 : s.strip().split("\\s+").length).toArray();
    }

    /** A plain-text report, one fact per line. */
    public String report() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "records       %d (%s)%n", records, format == QaDataset.Format.JSON_ARRAY ? "JSON array" : "JSON Lines"));
        words.forEach((field, summary) -> sb.append(String.format(Locale.ROOT, "%-13s words: %s%n", field, summary)));
        sb.append(String.format(Locale.ROOT, "chat history  %d records%n", withHistory));
        if (withoutResponse > 0) sb.append(String.format(Locale.ROOT, "no response   %d records%n", withoutResponse));
        sb.append("extra fields  ").append(extraFields.isEmpty() ? "none" : extraFields.toString()).append('\n');
        sb.append(String.format(Locale.ROOT, "duplicates    %d groups, %d records", duplicates.size(),
                duplicates.stream().mapToInt(g -> g.indexes().size() - 1).sum())).append(" beyond the first of each");
        for (QaDuplicates.Group g : duplicates.subList(0, Math.min(5, duplicates.size()))) {
            sb.append("\n              records ").append(g.indexes().stream().map(i -> Integer.toString(i + 1)).toList())
                    .append(g.sameResponse() ? "" : " (answers differ)");
        }
        sb.append('\n');
        sb.append(String.format(Locale.ROOT, "cleaning      would change %d records (whitespace, control characters, Unicode form)%n", changedByCleaning));
        if (tokens != null) {
            sb.append(String.format(Locale.ROOT, "tokens        template %s%n", tokens.template()));
            sb.append(String.format(Locale.ROOT, "  prompt      %s%n", tokens.prompt()));
            sb.append(String.format(Locale.ROOT, "  answer      %s (with the end marker)%n", tokens.answer()));
            sb.append(String.format(Locale.ROOT, "  total       %s%n", tokens.total()));
            if (tokens.maxSeqLength() > 0) {
                sb.append(String.format(Locale.ROOT, "  over %d     %d records would be cut (%d lose their whole answer)",
                        tokens.maxSeqLength(), tokens.overLimit(), tokens.answerLost()));
                if (!tokens.overLimitRecords().isEmpty()) {
                    List<Integer> shown = tokens.overLimitRecords().subList(0, Math.min(20, tokens.overLimitRecords().size()));
                    sb.append(": records ").append(shown).append(shown.size() < tokens.overLimitRecords().size() ? " ..." : "");
                }
                sb.append('\n');
            }
        }
        return sb.toString();
    }
}
