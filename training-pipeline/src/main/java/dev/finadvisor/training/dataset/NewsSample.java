package dev.finadvisor.training.dataset;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.news.NewsArticle;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * News for the offline dataset generator: the bundled sample (58 short fictional articles written
 * for this project, in Alpaca's news format) or a JSON Lines file of Alpaca news objects.
 */
public final class NewsSample {
    static final String RESOURCE = "news-sample.jsonl";

    private static final ObjectReader ARTICLE = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build()
            .readerFor(NewsArticle.class);

    private NewsSample() {}

    /** The bundled sample. */
    public static List<NewsArticle> bundled() {
        try (InputStream in = NewsSample.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("resource " + RESOURCE + " missing from the classpath");
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "bundled " + RESOURCE);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read bundled " + RESOURCE, e);
        }
    }

    /** Writes the bundled sample, byte for byte, as a JSON Lines file (e.g. for the feature pipeline's replay source). */
    public static void writeBundled(Path out) {
        try (InputStream in = NewsSample.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("resource " + RESOURCE + " missing from the classpath");
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            Files.write(out, in.readAllBytes());
        } catch (IOException e) {
            throw new UserError("cannot write " + out + ": " + e.getMessage(), e);
        }
    }

    /** Alpaca news objects, one per line; every bad line is reported at once. */
    public static List<NewsArticle> load(Path file) {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (java.nio.file.NoSuchFileException e) {
            throw new UserError("cannot read news file " + file + ": no such file", e);
        } catch (IOException e) {
            throw new UserError("cannot read news file " + file + ": " + e.getMessage(), e);
        }
    }

    static List<NewsArticle> parse(String text, String name) {
        List<NewsArticle> articles = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isBlank()) continue;
            try {
                NewsArticle a = ARTICLE.readValue(lines[i]);
                if (isBlank(a.headline()) && isBlank(a.summary())) {
                    problems.add("line " + (i + 1) + ": article " + a.id() + " has neither headline nor summary");
                } else {
                    articles.add(a);
                }
            } catch (JsonProcessingException e) {
                problems.add("line " + (i + 1) + ": not an Alpaca news object (" + e.getOriginalMessage() + ")");
            }
        }
        if (!problems.isEmpty()) {
            throw new UserError(name + ": " + problems.size() + " bad line(s), give one Alpaca news JSON object per line:\n  "
                    + String.join("\n  ", problems.subList(0, Math.min(problems.size(), 50))));
        }
        if (articles.isEmpty()) throw new UserError(name + " holds no news articles");
        return List.copyOf(articles);
    }

    static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }
}
