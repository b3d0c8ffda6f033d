package dev.finadvisor.domain.qa;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QaSampleTest {
    @Test
    void serializesWithTheCoursesFieldNamesAndKeepsExtraFieldsBesideThem() throws Exception {
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("source", "synthetic");
        extra.put("score", 3);
        QaSample s = new QaSample("me", "news", "q?", "a.", List.of(new QaSample.Exchange("q0", "a0")), extra);
        String json = new ObjectMapper().writeValueAsString(s);
        assertThat(json).isEqualTo("{\"about_me\":\"me\",\"context\":\"news\",\"question\":\"q?\",\"response\":\"a.\","
                + "\"chat_history\":[{\"question\":\"q0\",\"answer\":\"a0\"}],\"source\":\"synthetic\",\"score\":3}");
    }

    @Test
    void inferenceSampleOmitsResponseAndEmptyHistory() throws Exception {
        QaSample s = QaSample.forInference("me", "news", "q?", null);
        assertThat(s.chatHistory()).isEmpty();
        assertThat(s.extra()).isEmpty();
        assertThat(s.hasResponse()).isFalse();
        assertThat(new ObjectMapper().writeValueAsString(s)).isEqualTo("{\"about_me\":\"me\",\"context\":\"news\",\"question\":\"q?\"}");
    }

    @Test
    void plainJacksonReadsItBackWithExtraFields() throws Exception {
        String json = "{\"about_me\":\"me\",\"context\":\"news\",\"question\":\"q?\",\"response\":\"a.\","
                + "\"chat_history\":[{\"question\":\"q0\",\"answer\":\"a0\"}],\"source\":\"synthetic\",\"score\":3}";
        QaSample s = new ObjectMapper().readValue(json, QaSample.class);
        assertThat(s.chatHistory()).containsExactly(new QaSample.Exchange("q0", "a0"));
        // plain Jackson collects unknown fields in a HashMap: their order is not kept (QaDataset.load keeps it)
        assertThat(s.extra()).containsOnly(Map.entry("source", "synthetic"), Map.entry("score", 3));
        ObjectMapper mapper = new ObjectMapper();
        assertThat(mapper.readTree(mapper.writeValueAsString(s))).isEqualTo(mapper.readTree(json));
    }
}
