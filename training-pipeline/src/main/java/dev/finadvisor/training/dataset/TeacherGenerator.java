package dev.finadvisor.training.dataset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.news.NewsArticle;
import dev.finadvisor.domain.qa.QaCleaner;
import dev.finadvisor.domain.qa.QaSample;
import dev.finadvisor.training.openai.ChatClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.LinkedHashMap;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Distillation, as the course made its dataset with GPT-3.5: for each of N slots a persona (the synth generator's) and a
 * news article are drawn, a teacher LLM behind an OpenAI-compatible API writes the question that investor would ask and
 * an expert's answer justified by the news, as one JSON object, and the sample is appended to a JSON Lines file once it
 * passes the quality gates (length, reference to the news, no refusal or boilerplate, no near-duplicate of an earlier
 * sample). A rejected reply is logged with its reason and the slot draws again. Every sample records its slot, so a
 * run stopped any way (Ctrl-C, a crash, kill -9) and continued with {@code resume} ends with exactly N samples, none
 * lost or duplicated: a line cut short by a kill is dropped, the slots already written are skipped.
 */
public final class TeacherGenerator {
    /** Written into each sample's {@code source} field. */
    public static final String SOURCE = "finadvisor-teacher";
    static final String SYSTEM = """
            You are an expert in the stock and crypto markets. You are given a description of an investor and a piece of \
            recent financial news. Write the question this investor would ask an advisor about the news, and your answer to \
            it: concrete advice in under 100 tokens, suited to the investor, justified by the news. No disclaimers.
            Reply with exactly one JSON object and nothing else: {"question": "...", "response": "..."}""";
    static final int MIN_RESPONSE_WORDS = 8;
    static final int MAX_RESPONSE_WORDS = 100;
    /** Cosine similarity of two samples' embeddings from which the later one is a near-duplicate. */
    static final double NEAR_DUPLICATE = 0.95;
    private static final Pattern BOILERPLATE = Pattern.compile(
            "(?i)\\b(as an ai|language model|i'?m sorry|i am sorry|i can(?:no|')t (?:help|provide|give|assist)|i am unable|i'?m unable"
                    + "|not financial advice|consult (?:a|your) (?:financial|licensed|qualified)|do your own research)\\b");
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * @param draws   draws of persona and news per slot before the slot is given up (each rejected reply is one)
     * @param seed    the draws are functions of (seed, slot, draw), so a resumed run asks what the uninterrupted one would
     */
    public record Settings(int n, int concurrency, long seed, int draws) {}

    /** What a run did: samples in the file, those this run wrote, rejections by gate, slots given up, tokens used. */
    public record Report(int total, int written, Map<String, Integer> rejected, int gaveUp, ChatClient.Usage usage, boolean stopped) {}

    private final ChatClient client;
    private final String model;
    private final List<NewsArticle> news;
    private final Function<String, float[]> embed;
    private final Settings settings;
    private final Consumer<String> say;

    /** {@code embed} (may be null: no near-duplicate gate) maps a sample's question and answer to a vector. */
    public TeacherGenerator(ChatClient client, String model, List<NewsArticle> news, Function<String, float[]> embed, Settings settings,
                            Consumer<String> say) {
        if (news.isEmpty()) throw new UserError("the teacher needs at least one news article");
        this.client = client;
        this.model = model;
        this.news = List.copyOf(news);
        this.embed = embed;
        this.settings = settings;
        this.say = say;
    }

    /** Fills {@code out} up to N samples; {@code resume} continues a file a stopped run left. */
    public Report run(Path out, boolean resume, BooleanSupplier cancelled) {
        Map<Integer, QaSample> existing = resume ? readExisting(out) : fresh(out);
        int beyond = existing.keySet().stream().filter(slot -> slot >= settings.n()).findFirst().orElse(-1);
        if (beyond >= 0) {
            throw new UserError(out + " already holds the sample of slot " + beyond + ": more than --n " + settings.n() + " (give the --n it was started with)");
        }
        List<float[]> accepted = new ArrayList<>();
        if (embed != null) existing.values().forEach(s -> accepted.add(unit(embed.apply(s.question() + "\n" + s.response()))));
        List<Integer> todo = new ArrayList<>();
        for (int slot = 0; slot < settings.n(); slot++) if (!existing.containsKey(slot)) todo.add(slot);
        if (resume) say.accept("resume: " + existing.size() + " samples in " + out + ", " + todo.size() + " to go");

        Shared st = new Shared(accepted, out.resolveSibling(out.getFileName() + ".rejected.jsonl"), cancelled);
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, settings.concurrency()));
        try (FileChannel file = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            for (int slot : todo) {
                pool.execute(() -> {
                    try {
                        fill(slot, file, st);
                    } catch (RuntimeException e) { // e.g. the disk is full: stop every slot, say why
                        st.fatal.compareAndSet(null, "slot " + slot + " failed here: " + e);
                    }
                });
            }
            pool.shutdown();
            awaitQuietly(pool);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        } finally {
            pool.shutdownNow();
        }
        if (st.fatal.get() != null) {
            throw new UserError(st.fatal.get() + "; " + (existing.size() + st.written) + " samples are in " + out + " (continue with --resume once it is fixed)");
        }
        return new Report(existing.size() + st.written, st.written, st.rejected, st.gaveUp, st.usage, cancelled.getAsBoolean());
    }

    /** What the slots of one run share; the counters and {@code accepted} change under {@code accepted}'s lock. */
    private static final class Shared {
        final List<float[]> accepted;
        final Path rejectedFile;
        final Map<String, Integer> rejected = new TreeMap<>();
        final AtomicReference<String> fatal = new AtomicReference<>();
        final BooleanSupplier stop;
        int written;
        int gaveUp;
        ChatClient.Usage usage = ChatClient.Usage.NONE;

        Shared(List<float[]> accepted, Path rejectedFile, BooleanSupplier cancelled) {
            this.accepted = accepted;
            this.rejectedFile = rejectedFile;
            this.stop = () -> fatal.get() != null || cancelled.getAsBoolean();
        }
    }

    /** Draws for {@code slot} until a reply passes the gates (appended to {@code file}), the draws run out, or the run stops. */
    private void fill(int slot, FileChannel file, Shared st) {
        for (int draw = 0; draw < settings.draws() && !st.stop.getAsBoolean(); draw++) {
            Drawn d = draw(slot, draw);
            ChatClient.Result<QaSample> r = client.complete(ChatClient.request(model, 0.7, SYSTEM, d.prompt()), c -> parse(c, d), st.stop);
            synchronized (st.accepted) {
                st.usage = st.usage.plus(r.usage());
            }
            if (!r.ok()) {
                if (r.failure().matches("HTTP (401|403|404)\\b.*")) {
                    st.fatal.compareAndSet(null, "the teacher at " + client.endpoint() + " refused the request: " + r.failure()); // a wrong key, an unknown model
                } else if (!r.failure().equals("interrupted")) {
                    say.accept("slot " + slot + ": no usable reply: " + r.failure());
                }
                continue;
            }
            String reason = gate(r.value(), d.article());
            float[] v = reason == null && embed != null ? unit(embed.apply(r.value().question() + "\n" + r.value().response())) : null;
            synchronized (st.accepted) { // the near-duplicate check and the write are one step: two threads never both pass
                if (reason == null && v != null) reason = nearDuplicate(v, st.accepted);
                if (reason == null) {
                    append(file, r.value());
                    if (v != null) st.accepted.add(v);
                    st.written++;
                    return;
                }
                st.rejected.merge(reason.replaceAll(" \\(.*", ""), 1, Integer::sum);
                logRejected(st.rejectedFile, slot, r.value(), reason);
            }
            say.accept("slot " + slot + ": rejected: " + reason);
        }
        if (!st.stop.getAsBoolean()) {
            synchronized (st.accepted) {
                st.gaveUp++;
            }
        }
    }

    /** A slot's draw: the persona, the article and the prompt asking for them. */
    record Drawn(int slot, String aboutMe, NewsArticle article, Map<String, Object> profile, String prompt) {}

    Drawn draw(int slot, int draw) {
        SplittableRandom r = new SplittableRandom(settings.seed() * 1_000_003L + slot * 1_009L + draw);
        InvestorProfile profile = InvestorProfile.random(r);
        NewsArticle a = news.get(r.nextInt(news.size()));
        String aboutMe = profile.aboutMe(r);
        String prompt = "Investor:\n" + aboutMe + "\n\nNews (" + a.createdAt() + (a.symbols().isEmpty() ? "" : ", " + String.join(", ", a.symbols()))
                + "):\n" + context(a);
        return new Drawn(slot, aboutMe, a, profile.asFields(), prompt);
    }

    /** The news text a sample keeps as its context: the headline, and the summary when there is one. */
    static String context(NewsArticle a) {
        String summary = a.summary() == null ? "" : a.summary().strip();
        return QaCleaner.text(summary.isEmpty() ? a.headline() : a.headline() + "\n" + summary);
    }

    /** The sample in a reply's content: one JSON object with a non-empty question and response; IllegalArgumentException otherwise. */
    QaSample parse(String content, Drawn d) {
        JsonNode o = ChatClient.object(content);
        String question = text(o, "question");
        String response = text(o, "response");
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("source", SOURCE);
        extra.put("slot", d.slot());
        extra.put("news_id", d.article().id());
        extra.put("teacher", model);
        extra.put("profile", d.profile());
        return new QaSample(d.aboutMe(), context(d.article()), QaCleaner.text(question), QaCleaner.text(response), List.of(), extra);
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || !v.isTextual() || v.asText().isBlank()) throw new IllegalArgumentException("no " + field + " text");
        return v.asText();
    }

    /** Why {@code s} fails a quality gate (the reason's first words name the gate), or null when it passes. */
    static String gate(QaSample s, NewsArticle a) {
        int words = words(s.response()).size();
        if (words < MIN_RESPONSE_WORDS || words > MAX_RESPONSE_WORDS) {
            return "length (the answer has " + words + " words; " + MIN_RESPONSE_WORDS + " to " + MAX_RESPONSE_WORDS + " make the course's under-100-token advice)";
        }
        if (words(s.question()).size() < 3) return "length (the question has fewer than 3 words)";
        var m = BOILERPLATE.matcher(s.question() + "\n" + s.response());
        if (m.find()) return "refusal or boilerplate ('" + m.group() + "')";
        TreeSet<String> newsWords = new TreeSet<>(content(words(a.headline() + " " + (a.summary() == null ? "" : a.summary()))));
        a.symbols().forEach(sym -> newsWords.add(sym.toLowerCase(Locale.ROOT)));
        if (content(words(s.response())).stream().noneMatch(newsWords::contains)) {
            return "no reference to the news (the answer shares no name or content word with it)";
        }
        return null;
    }

    private static String nearDuplicate(float[] v, List<float[]> accepted) {
        for (int i = 0; i < accepted.size(); i++) {
            double cos = 0;
            float[] u = accepted.get(i);
            for (int j = 0; j < v.length; j++) cos += v[j] * u[j];
            if (cos >= NEAR_DUPLICATE) return String.format(Locale.ROOT, "near-duplicate (cosine %.3f with an earlier sample)", cos);
        }
        return null;
    }

    private static float[] unit(float[] v) {
        double norm = 0;
        for (float x : v) norm += x * x;
        float[] u = new float[v.length];
        float s = norm == 0 ? 0 : (float) (1 / Math.sqrt(norm));
        for (int i = 0; i < v.length; i++) u[i] = v[i] * s;
        return u;
    }

    private static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        for (String w : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) if (!w.isEmpty()) out.add(w);
        return out;
    }

    private static final java.util.Set<String> STOP = java.util.Set.of("about", "after", "also", "been", "being", "could", "does", "from",
            "have", "into", "just", "more", "most", "much", "should", "some", "such", "than", "that", "their", "them", "then", "there",
            "these", "they", "this", "those", "very", "what", "when", "which", "while", "will", "with", "would", "your", "news", "market",
            "markets", "stock", "stocks", "invest", "investing", "investment", "investments", "investor", "investors", "portfolio");

    /** Words that can tie an answer to the news: 4 letters or more, or with a digit, and not a common word. */
    private static List<String> content(List<String> words) {
        return words.stream().filter(w -> (w.length() >= 4 || w.chars().anyMatch(Character::isDigit)) && !STOP.contains(w)).toList();
    }

    private static void append(FileChannel file, QaSample s) {
        try {
            ByteBuffer line = ByteBuffer.wrap((JSON.writeValueAsString(s) + "\n").getBytes(StandardCharsets.UTF_8));
            while (line.hasRemaining()) file.write(line);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append a sample: " + e.getMessage(), e);
        }
    }

    private static void logRejected(Path file, int slot, QaSample s, String reason) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("slot", slot);
        o.put("reason", reason);
        o.put("question", s.question());
        o.put("response", s.response());
        try {
            Files.writeString(file, JSON.writeValueAsString(o) + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** A new file: refuses to overwrite samples a run wrote (continue it with --resume, or pick another name). */
    private static Map<Integer, QaSample> fresh(Path out) {
        try {
            if (Files.exists(out) && Files.size(out) > 0) {
                throw new UserError(out + " already holds samples: continue it with --resume, or give another --out");
            }
            if (out.toAbsolutePath().getParent() != null) Files.createDirectories(out.toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + out + ": " + e.getMessage(), e);
        }
        return Map.of();
    }

    /**
     * The samples a stopped run left, by slot. Every complete line must be a sample this command wrote (else an error
     * naming the line, and the file is left as it is); only then is a last line without its newline (the process died
     * while writing it) cut off the file.
     */
    static Map<Integer, QaSample> readExisting(Path out) {
        if (!Files.exists(out)) return fresh(out);
        try {
            byte[] bytes = Files.readAllBytes(out);
            int end = bytes.length;
            while (end > 0 && bytes[end - 1] != '\n') end--;
            Map<Integer, QaSample> bySlot = new TreeMap<>();
            String[] lines = new String(bytes, 0, end, StandardCharsets.UTF_8).split("\n");
            for (int i = 0; i < lines.length; i++) {
                if (lines[i].isBlank()) continue;
                QaSample s = sample(out, i + 1, lines[i]);
                bySlot.putIfAbsent((Integer) s.extra().get("slot"), s);
            }
            if (end < bytes.length) {
                if (end == 0) sample(out, 1, new String(bytes, StandardCharsets.UTF_8)); // one line and no newline: not a cut-off sample, say what it is
                try (FileChannel f = FileChannel.open(out, StandardOpenOption.WRITE)) {
                    f.truncate(end);
                }
            }
            return bySlot;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + out + ": " + e.getMessage(), e);
        }
    }

    private static QaSample sample(Path out, int line, String text) {
        QaSample s;
        try {
            s = JSON.readValue(text, QaSample.class);
        } catch (IOException e) {
            throw new UserError(out + " line " + line + ": not a sample written by dataset generate (" + ChatClient.abbreviate(e.getMessage()) + ")");
        }
        if (!(s.extra().get("slot") instanceof Integer)) throw new UserError(out + " line " + line + ": no slot: not written by dataset generate");
        return s;
    }

    private static void awaitQuietly(ExecutorService pool) {
        try {
            while (!pool.awaitTermination(1, TimeUnit.SECONDS)) {
                // waiting for the slots in flight
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
