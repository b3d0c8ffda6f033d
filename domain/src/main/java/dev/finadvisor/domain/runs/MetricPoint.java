package dev.finadvisor.domain.runs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finadvisor.domain.UserError;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One line of {@code metrics.jsonl}: the numbers logged at one optimiser step. Absent numbers are
 * null (a validation loss exists only at evaluation steps); names the trainer adds beyond the
 * known ones are kept in {@code extra}. NaN and infinities are written as the strings "NaN",
 * "Infinity", "-Infinity" (valid JSON) and read back as numbers.
 */
public record MetricPoint(
        long step,
        Double epoch,
        Double loss,
        Double evalLoss,
        Double perplexity,
        Double learningRate,
        Double gradNorm,
        Double tokensPerS,
        Double elapsedS,
        Map<String, Double> extra) {

    public static final String STEP = "step";
    public static final String EPOCH = "epoch";
    public static final String LOSS = "loss";
    public static final String EVAL_LOSS = "eval_loss";
    public static final String PERPLEXITY = "perplexity";
    public static final String LEARNING_RATE = "learning_rate";
    public static final String GRAD_NORM = "grad_norm";
    public static final String TOKENS_PER_S = "tokens_per_s";
    /** Seconds since the run started; the tracker fills it in. */
    public static final String ELAPSED_S = "elapsed_s";
    /** The known names in the order they are written. */
    public static final List<String> KNOWN = List.of(EPOCH, LOSS, EVAL_LOSS, PERPLEXITY, LEARNING_RATE, GRAD_NORM, TOKENS_PER_S, ELAPSED_S);

    public MetricPoint {
        if (step < 0) throw new IllegalArgumentException("step must be >= 0, got " + step);
        extra = extra == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(extra));
        for (String k : extra.keySet()) {
            if (k.equals(STEP) || KNOWN.contains(k)) throw new IllegalArgumentException("'" + k + "' is a known metric, not an extra one");
        }
    }

    /** A point from names as written in the file ({@code loss}, {@code eval_loss}, ...); null values are left out. */
    public static MetricPoint of(long step, Map<String, Double> values) {
        Map<String, Double> extra = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : values.entrySet()) {
            if (e.getValue() != null && !KNOWN.contains(e.getKey())) {
                if (e.getKey().equals(STEP)) throw new IllegalArgumentException("give the step as the step argument, not as a value");
                extra.put(e.getKey(), e.getValue());
            }
        }
        return new MetricPoint(step, values.get(EPOCH), values.get(LOSS), values.get(EVAL_LOSS), values.get(PERPLEXITY),
                values.get(LEARNING_RATE), values.get(GRAD_NORM), values.get(TOKENS_PER_S), values.get(ELAPSED_S), extra);
    }

    /** Every non-null value by its file name, known names first, step excluded. */
    public Map<String, Double> values() {
        Map<String, Double> m = new LinkedHashMap<>();
        put(m, EPOCH, epoch);
        put(m, LOSS, loss);
        put(m, EVAL_LOSS, evalLoss);
        put(m, PERPLEXITY, perplexity);
        put(m, LEARNING_RATE, learningRate);
        put(m, GRAD_NORM, gradNorm);
        put(m, TOKENS_PER_S, tokensPerS);
        put(m, ELAPSED_S, elapsedS);
        m.putAll(extra);
        return m;
    }

    /** The value of {@code name}, or null when this step did not log it. */
    public Double get(String name) {
        return values().get(name);
    }

    public MetricPoint withElapsed(double seconds) {
        return new MetricPoint(step, epoch, loss, evalLoss, perplexity, learningRate, gradNorm, tokensPerS, seconds, extra);
    }

    private static void put(Map<String, Double> m, String k, Double v) {
        if (v != null) m.put(k, v);
    }

    /** One compact JSON line without the newline. */
    public String toJsonLine() {
        ObjectNode node = RunJson.MAPPER.createObjectNode();
        node.put(STEP, step);
        values().forEach((k, v) -> {
            if (v.isNaN() || v.isInfinite()) node.put(k, v.toString());
            else node.put(k, v);
        });
        try {
            return RunJson.MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses one line; errors name {@code where} (e.g. "runs/x/metrics.jsonl line 7") and the field. */
    public static MetricPoint parse(String line, String where) {
        JsonNode node;
        try {
            node = RunJson.MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
            throw new UserError(where + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) throw new UserError(where + ": expected a JSON object such as {\"step\": 1, \"loss\": 2.3}");
        JsonNode step = node.get(STEP);
        if (step == null || step.isNull()) throw new UserError(where + ": missing field 'step'");
        if (!step.isIntegralNumber() || step.asLong() < 0 || !step.canConvertToLong()) {
            throw new UserError(where + ": field 'step' is " + step + ", expected a whole number >= 0");
        }
        Map<String, Double> values = new LinkedHashMap<>();
        for (var f : node.properties()) {
            if (f.getKey().equals(STEP) || f.getValue().isNull()) continue;
            values.put(f.getKey(), number(f.getValue(), f.getKey(), where));
        }
        return of(step.asLong(), values);
    }

    private static double number(JsonNode v, String field, String where) {
        if (v.isNumber()) return v.asDouble();
        if (v.isTextual()) {
            switch (v.asText()) {
                case "NaN": return Double.NaN;
                case "Infinity": return Double.POSITIVE_INFINITY;
                case "-Infinity": return Double.NEGATIVE_INFINITY;
                default: break;
            }
        }
        throw new UserError(where + ": field '" + field + "' is " + v + ", expected a number");
    }
}
