package dev.finadvisor.training.eval;

import static dev.finadvisor.training.tracking.RunReport.esc;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.finadvisor.domain.qa.QaSample;
import dev.finadvisor.domain.runs.AtomicFiles;
import dev.finadvisor.llm.lowbit.WeightFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code report.json} and {@code report.html} of an evaluation. JSON: {@code metrics} (the model the evaluation is
 * about: base + adapter when there is one), under {@code --compare} also {@code base}, {@code adapter} and
 * {@code difference} (adapter minus base), {@code partial}, what was evaluated ({@code about}) and one row per sample.
 * Metrics that could not be computed are null.
 */
public final class EvalReport {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private EvalReport() {}

    /** What an evaluation was of, as the report's {@code about} section shows it. */
    public static Map<String, Object> about(String model, String adapter, String data, int samples, String template, WeightFormat weights,
                                            Evaluator.Settings settings, String judge) {
        Map<String, Object> about = new LinkedHashMap<>();
        about.put("model", model);
        about.put("adapter", adapter);
        about.put("data", data);
        about.put("samples", samples);
        about.put("template", template);
        about.put("weights", weights.name().toLowerCase(Locale.ROOT));
        about.put("max_new_tokens", settings.maxNewTokens());
        about.put("repetition_penalty", settings.repetitionPenalty());
        about.put("decoding", "greedy");
        about.put("judge", judge);
        return about;
    }

    /** The report as a JSON tree of maps and lists. */
    public static Map<String, Object> json(Map<String, Object> about, List<QaSample> samples, Evaluation.Result result) {
        Map<String, Map<String, Double>> metrics = result.metrics();
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("partial", result.partial());
        o.put("about", about);
        o.put("metrics", numbers(metrics.getOrDefault(result.subject(), Map.of())));
        if (metrics.size() > 1) {
            metrics.forEach((label, m) -> o.put(label, numbers(m)));
            o.put("difference", numbers(difference(metrics.get(Evaluation.BASE), metrics.get(Evaluation.ADAPTER))));
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            QaSample s = samples.get(i);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("index", i);
            row.put("about_me", s.aboutMe());
            row.put("context", s.context());
            row.put("question", s.question());
            row.put("reference", s.response());
            for (var e : result.scores().entrySet()) {
                if (i < e.getValue().size()) row.put(e.getKey(), sample(e.getValue().get(i)));
            }
            if (result.retrieval() != null && result.retrieval().get(i) != null) {
                RetrievalHits.Hit h = result.retrieval().get(i);
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("hit", h.hit());
                r.put("coverage", h.coverage());
                r.put("headline", h.headline());
                row.put("retrieval", r);
            }
            rows.add(row);
        }
        o.put("rows", rows);
        return o;
    }

    /** {@code adapter - base} for every metric both have. */
    static Map<String, Double> difference(Map<String, Double> base, Map<String, Double> adapter) {
        Map<String, Double> d = new LinkedHashMap<>();
        base.forEach((k, v) -> {
            if (adapter.containsKey(k)) d.put(k, Metrics.difference(base, adapter, k));
        });
        return d;
    }

    private static Map<String, Object> sample(SampleScore s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("answer", s.answer());
        m.put("finish_reason", s.finishReason());
        m.put("loss", s.answerTokens() == 0 ? null : s.lossSum() / s.answerTokens());
        m.put("answer_tokens", s.answerTokens());
        m.put("rouge_l", s.rouge().f1());
        m.put("prompt_tokens", s.promptTokens());
        m.put("completion_tokens", s.completionTokens());
        m.put("latency_ms", s.latencyMs());
        if (s.judge() != null) {
            Map<String, Object> j = new LinkedHashMap<>();
            if (s.judge().valid()) {
                j.put("relevance", s.judge().relevance());
                j.put("grounding", s.judge().grounding());
                j.put("persona", s.judge().persona());
                j.put("safety", s.judge().safety());
                j.put("rationale", s.judge().rationale());
            } else {
                j.put("missing", s.judge().missing());
            }
            m.put("judge", j);
        }
        return m;
    }

    private static Map<String, Object> numbers(Map<String, Double> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, v == null || v.isNaN() || v.isInfinite() ? null : v));
        return out;
    }

    /** Writes report.json and report.html into {@code dir} (created), each atomically; returns the HTML file. */
    public static Path write(Path dir, Map<String, Object> about, List<QaSample> samples, Evaluation.Result result) {
        try {
            Files.createDirectories(dir);
            Map<String, Object> json = json(about, samples, result);
            AtomicFiles.write(dir.resolve("report.json"), JSON.writeValueAsBytes(json));
            Path html = dir.resolve("report.html");
            AtomicFiles.write(html, html(about, samples, result).getBytes(StandardCharsets.UTF_8));
            return html;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report into " + dir + ": " + e.getMessage(), e);
        }
    }

    static String html(Map<String, Object> about, List<QaSample> samples, Evaluation.Result result) {
        Map<String, Map<String, Double>> metrics = result.metrics();
        List<String> labels = new ArrayList<>(metrics.keySet());
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Evaluation</title>\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}"
                        + "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:left;vertical-align:top}"
                        + "th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}"
                        + ".bar{display:inline-block;height:0.8em;background:#3b6ea8;margin-right:6px}.bar.base{background:#a8a8a8}"
                        + ".partial{color:#a15c00;font-weight:bold}.better{color:#17702a}.worse{color:#b00020}small{color:#555}</style></head><body>\n");
        sb.append("<h1>Evaluation</h1>\n");
        if (result.partial()) sb.append("<p class=\"partial\">Partial: stopped before every sample was scored.</p>\n");
        sb.append("<table>\n");
        about.forEach((k, v) -> sb.append("<tr><th>").append(esc(k)).append("</th><td>").append(esc(String.valueOf(v))).append("</td></tr>\n"));
        sb.append("</table>\n");
        if (labels.isEmpty()) return sb.append("<p class=\"partial\">No sample was scored.</p>\n</body></html>\n").toString();
        sb.append("<h2>Metrics</h2>\n<table><tr><th>metric</th>");
        for (String l : labels) sb.append("<th>").append(esc(l)).append("</th>");
        if (labels.size() > 1) sb.append("<th>difference</th>");
        sb.append("</tr>\n");
        for (String metric : metrics.get(labels.get(0)).keySet()) {
            sb.append("<tr><td>").append(esc(metric)).append("</td>");
            for (String l : labels) sb.append("<td class=\"num\">").append(number(metrics.get(l).get(metric))).append("</td>");
            if (labels.size() > 1) {
                double d = Metrics.difference(metrics.get(Evaluation.BASE), metrics.get(Evaluation.ADAPTER), metric);
                boolean better = Metrics.lowerIsBetter(metric) ? d < 0 : d > 0;
                sb.append("<td class=\"num ").append(Double.isNaN(d) || d == 0 ? "" : better ? "better" : "worse").append("\">")
                        .append(Double.isNaN(d) ? "-" : String.format(Locale.ROOT, "%+.4f", d)).append("</td>");
            }
            sb.append("</tr>\n");
        }
        sb.append("</table>\n<h2>ROUGE-L F1 per sample</h2>\n<table><tr><th>#</th><th>question</th>");
        for (String l : labels) sb.append("<th>").append(esc(l)).append("</th>");
        sb.append("</tr>\n");
        for (int i = 0; i < samples.size(); i++) {
            sb.append("<tr><td class=\"num\">").append(i).append("</td><td>").append(esc(samples.get(i).question().strip())).append("</td>");
            for (String l : labels) {
                List<SampleScore> s = result.scores().get(l);
                sb.append("<td>");
                if (i < s.size()) {
                    double f = s.get(i).rouge().f1();
                    sb.append("<span class=\"bar").append(l.equals(Evaluation.BASE) && labels.size() > 1 ? " base" : "")
                            .append("\" style=\"width:").append(Math.round(f * 120)).append("px\"></span>").append(number(f));
                }
                sb.append("</td>");
            }
            sb.append("</tr>\n");
        }
        sb.append("</table>\n<h2>Samples</h2>\n");
        for (int i = 0; i < samples.size(); i++) {
            QaSample q = samples.get(i);
            sb.append("<h3>").append(i).append(". ").append(esc(q.question().strip())).append("</h3>\n<table>\n");
            sb.append("<tr><th>about me</th><td>").append(esc(q.aboutMe())).append("</td></tr>\n");
            sb.append("<tr><th>context</th><td>").append(esc(q.context())).append("</td></tr>\n");
            sb.append("<tr><th>reference</th><td>").append(esc(q.response())).append("</td></tr>\n");
            if (result.retrieval() != null && result.retrieval().get(i) != null) {
                RetrievalHits.Hit h = result.retrieval().get(i);
                sb.append("<tr><th>retrieval</th><td>").append(h.hit() ? "hit" : "miss").append(String.format(Locale.ROOT, " (coverage %.2f", h.coverage()))
                        .append(h.headline() == null ? ", nothing retrieved" : ", best: " + esc(h.headline())).append(")</td></tr>\n");
            }
            for (String l : labels) {
                List<SampleScore> s = result.scores().get(l);
                if (i >= s.size()) continue;
                SampleScore a = s.get(i);
                sb.append("<tr><th>").append(esc(l)).append("</th><td>").append(esc(a.answer())).append("<br><small>ROUGE-L ")
                        .append(number(a.rouge().f1())).append(", loss ").append(a.answerTokens() == 0 ? "-" : number(a.lossSum() / a.answerTokens()))
                        .append(", ").append(a.completionTokens()).append(" tokens in ").append(a.latencyMs()).append(" ms, ")
                        .append(esc(a.finishReason())).append(judge(a.judge())).append("</small></td></tr>\n");
            }
            sb.append("</table>\n");
        }
        sb.append("<p><small>Generated ").append(Instant.now()).append(" by finadvisor eval.</small></p>\n</body></html>\n");
        return sb.toString();
    }

    private static String judge(Judge.Grades g) {
        if (g == null) return "";
        if (!g.valid()) return "<br>judge: missing (" + esc(g.missing()) + ")";
        return "<br>judge: relevance " + g.relevance() + ", grounding " + g.grounding() + ", persona " + g.persona() + ", safety "
                + g.safety() + ": " + esc(g.rationale());
    }

    private static String number(Double v) {
        return v == null || v.isNaN() ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }
}
