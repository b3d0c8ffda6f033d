package dev.finadvisor.training.dataset;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.news.NewsArticle;
import dev.finadvisor.domain.qa.QaDuplicates;
import dev.finadvisor.domain.qa.QaSample;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A pretraining corpus from what the project can ship: the bundled news, news it writes ({@link NewsWriter}), synthetic
 * Q&A over both ({@link SyntheticQaGenerator}) and Q&A samples given (the course's). Q&A samples are laid out as plain
 * labelled text ("About me:", "News:", "Question:", "Answer:"), not in a training prompt template, so what fine-tuning
 * teaches afterwards (the template and its end marker) stays visible. Samples held out for evaluation are left out:
 * any sample whose news and question, or whose answer, matches one of them. Documents are shuffled, so a validation
 * slice cut from the end holds every kind.
 */
public final class PretrainCorpus {
    /** What goes in; {@code heldOut} are samples to keep out (an evaluation set). */
    public record Options(int synthSamples, int writtenNews, long seed, List<QaSample> extraSamples, List<QaSample> heldOut) {}

    /** The documents, and how many of each kind went in (and how many were left out as held out). */
    public record Result(List<String> documents, Map<String, Integer> counts) {}

    private PretrainCorpus() {}

    public static Result build(Options o) {
        if (o.synthSamples() < 0 || o.writtenNews() < 0) throw new UserError("sample and article counts must not be negative");
        Set<String> held = new HashSet<>();
        for (QaSample s : o.heldOut()) {
            held.add(pairKey(s));
            held.add(answerKey(s));
        }
        List<NewsArticle> news = new ArrayList<>(NewsSample.bundled());
        int bundled = news.size();
        news.addAll(NewsWriter.write(o.writtenNews(), o.seed(), 90_000_000L));
        List<String> docs = new ArrayList<>();
        for (NewsArticle a : news) docs.add(NewsWriter.text(a));
        Map<String, Integer> counts = new LinkedHashMap<>();
        counts.put("bundled news", bundled);
        counts.put("written news", o.writtenNews());
        List<QaSample> synth = o.synthSamples() == 0 ? List.of() : new SyntheticQaGenerator(news).generate(o.synthSamples(), o.seed());
        int keptSynth = addUnlessHeld(synth, held, docs);
        int keptGiven = addUnlessHeld(o.extraSamples(), held, docs);
        counts.put("synthetic Q&A", keptSynth);
        counts.put("given Q&A", keptGiven);
        counts.put("left out as held out", synth.size() + o.extraSamples().size() - keptSynth - keptGiven);
        shuffle(docs, new SplittableRandom(o.seed() ^ 0x5DEECE66DL));
        return new Result(List.copyOf(docs), counts);
    }

    /** Adds the documents of the samples that are not held out; how many it added. */
    private static int addUnlessHeld(List<QaSample> samples, Set<String> held, List<String> docs) {
        int added = 0;
        for (QaSample s : samples) {
            if (held.contains(pairKey(s)) || held.contains(answerKey(s))) continue;
            docs.add(text(s));
            added++;
        }
        return added;
    }

    /** A Q&A sample as a labelled plain-text document. */
    public static String text(QaSample s) {
        return "About me: " + s.aboutMe().strip() + "\nNews: " + s.context().strip() + "\nQuestion: " + s.question().strip()
                + "\nAnswer: " + s.response().strip();
    }

    private static String pairKey(QaSample s) {
        return "q|" + QaDuplicates.normalize(s.context()) + "|" + QaDuplicates.normalize(s.question());
    }

    private static String answerKey(QaSample s) {
        return s.response() == null ? "a|" : "a|" + QaDuplicates.normalize(s.response());
    }

    private static void shuffle(List<String> list, SplittableRandom r) {
        for (int i = list.size() - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            list.set(i, list.set(j, list.get(i)));
        }
    }
}
