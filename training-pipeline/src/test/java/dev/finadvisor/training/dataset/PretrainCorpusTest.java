package dev.finadvisor.training.dataset;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finadvisor.domain.qa.QaSample;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PretrainCorpusTest {
    @Test
    void assemblesEveryKindShuffledAndKeepsHeldOutSamplesOut() {
        List<QaSample> heldOut = new SyntheticQaGenerator(NewsSample.bundled()).generate(64, 7);
        QaSample course = new QaSample("I'm a 26 year old investor.\nI want to explore emerging markets.", "Eastern European economies grow.",
                "\nHow do you view Eastern European markets?", "\nThey have potential for growth.", List.of(), Map.of());
        PretrainCorpus.Options options = new PretrainCorpus.Options(2000, 300, 7, List.of(course, heldOut.get(3)), heldOut);
        PretrainCorpus.Result r = PretrainCorpus.build(options);
        assertThat(PretrainCorpus.build(options).documents()).isEqualTo(r.documents());
        Map<String, Integer> c = r.counts();
        assertThat(c.get("bundled news")).isEqualTo(NewsSample.bundled().size());
        assertThat(c.get("written news")).isEqualTo(300);
        // the same generator with the held-out set's seed remakes some of its samples: they, and the one given back, stay out
        assertThat(c.get("left out as held out")).isPositive();
        assertThat(c.get("synthetic Q&A") + c.get("left out as held out")).isEqualTo(2000 + 1);
        assertThat(c.get("given Q&A")).isEqualTo(1);
        assertThat(r.documents()).hasSize(c.get("bundled news") + 300 + c.get("synthetic Q&A") + 1);
        assertThat(r.documents()).contains("About me: I'm a 26 year old investor.\nI want to explore emerging markets.\nNews: Eastern European economies grow."
                + "\nQuestion: How do you view Eastern European markets?\nAnswer: They have potential for growth.");
        for (QaSample h : heldOut) {
            String pair = "News: " + h.context() + "\nQuestion: " + h.question() + "\n";
            assertThat(r.documents()).noneMatch(d -> d.contains(pair) || d.endsWith("Answer: " + h.response()));
        }
        // shuffled: the last twentieth (a validation slice) holds news and Q&A alike
        List<String> tail = r.documents().subList(r.documents().size() * 19 / 20, r.documents().size());
        assertThat(tail).anyMatch(d -> d.startsWith("About me: ")).anyMatch(d -> !d.startsWith("About me: "));
    }
}
