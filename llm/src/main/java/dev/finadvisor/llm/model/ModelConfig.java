package dev.finadvisor.llm.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.util.JsonErrors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A checkpoint's config.json reduced to what the forward pass needs, for the supported families.
 * Falcon's older key names (n_head, n_layer, RWForCausalLM) are read too.
 */
public record ModelConfig(
        Family family,
        String architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int maxPositions,
        double normEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean tieWordEmbeddings,
        // Falcon only
        boolean newDecoderArchitecture,
        boolean parallelAttention,
        boolean bias,
        // Mistral, Qwen2: each query of a windowed layer sees its last slidingWindow keys (0: every earlier key)
        int slidingWindow,
        int windowFromLayer) {

    /** Whether decoder layer {@code layer} attends through the sliding window. */
    public boolean windowed(int layer) {
        return slidingWindow > 0 && layer >= windowFromLayer;
    }

    /** The model families this runtime implements. */
    public enum Family { LLAMA, FALCON }

    public static final List<String> SUPPORTED = List.of(
            "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "FalconForCausalLM (alias RWForCausalLM)");

    public static ModelConfig load(Path checkpointDir) {
        Path file = checkpointDir.resolve("config.json");
        if (!Files.isRegularFile(file)) throw new UserError(checkpointDir + ": no config.json; is this a Hugging Face checkpoint folder?");
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new UserError(file + ": not valid JSON: " + JsonErrors.describe(e), e);
        }
        if (root == null || !root.isObject()) throw new UserError(file + ": not a JSON object");
        return parse(file, root);
    }

    static ModelConfig parse(Path file, JsonNode c) {
        JsonNode archs = c.get("architectures");
        String arch = archs != null && archs.isArray() && archs.size() > 0 ? archs.get(0).asText() : null;
        if (arch == null) {
            String type = text(c, "model_type", "");
            arch = switch (type) {
                case "llama" -> "LlamaForCausalLM";
                case "mistral" -> "MistralForCausalLM";
                case "qwen2" -> "Qwen2ForCausalLM";
                case "falcon", "RefinedWeb", "RefinedWebModel" -> "FalconForCausalLM";
                default -> throw new UserError(file + ": no 'architectures' and model_type '" + type + "' is not supported; supported: " + SUPPORTED);
            };
        }
        Reader r = new Reader(file, c);
        return switch (arch) {
            case "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM" -> llama(r, arch);
            case "FalconForCausalLM", "RWForCausalLM" -> falcon(r, arch);
            default -> throw new UserError(file + ": architecture '" + arch + "' is not supported; supported: " + SUPPORTED);
        };
    }

    private static ModelConfig llama(Reader r, String arch) {
        int hidden = r.positiveInt("hidden_size");
        int heads = r.positiveInt("num_attention_heads");
        int kvHeads = r.has("num_key_value_heads") && !r.c.get("num_key_value_heads").isNull() ? r.positiveInt("num_key_value_heads") : heads;
        if (heads % kvHeads != 0) r.fail("num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        int headDim = r.has("head_dim") && !r.c.get("head_dim").isNull() ? r.positiveInt("head_dim") : hidden / heads;
        if (!r.has("head_dim") && hidden % heads != 0) r.fail("hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
        int maxPositions = r.positiveInt("max_position_embeddings");
        // Sliding-window attention is a window over the keys, not a limit on the context: Mistral windows every
        // layer; Qwen2, when use_sliding_window is on, the layers from max_window_layers up.
        int window = 0;
        int windowFrom = 0;
        JsonNode w = r.c.get("sliding_window");
        boolean qwen = arch.equals("Qwen2ForCausalLM");
        if ((arch.equals("MistralForCausalLM") || qwen && r.c.path("use_sliding_window").asBoolean(false)) && w != null && !w.isNull()) {
            window = r.positiveInt("sliding_window");
            if (qwen) windowFrom = r.has("max_window_layers") ? r.c.get("max_window_layers").asInt(0) : 0;
        }
        if (r.has("hidden_act") && !r.c.get("hidden_act").asText().equals("silu")) {
            r.fail("hidden_act '" + r.c.get("hidden_act").asText() + "' is not supported (only silu)");
        }
        return new ModelConfig(Family.LLAMA, arch, r.positiveInt("vocab_size"), hidden, r.positiveInt("intermediate_size"),
                r.positiveInt("num_hidden_layers"), heads, kvHeads, headDim, maxPositions, r.dbl("rms_norm_eps", 1e-6),
                ropeTheta(r), ropeScaling(r), r.bool("tie_word_embeddings", false), false, false, false, window, windowFrom);
    }

    private static ModelConfig falcon(Reader r, String arch) {
        if (r.bool("alibi", false)) r.fail("alibi position encoding is not supported (only rotary)");
        int hidden = r.positiveInt("hidden_size");
        int heads = r.has("num_attention_heads") ? r.positiveInt("num_attention_heads") : r.positiveInt("n_head");
        int layers = r.has("num_hidden_layers") ? r.positiveInt("num_hidden_layers") : r.positiveInt("n_layer");
        boolean newArch = r.bool("new_decoder_architecture", false);
        int kvHeads;
        if (newArch) {
            kvHeads = r.has("num_kv_heads") ? r.positiveInt("num_kv_heads") : r.has("n_head_kv") ? r.positiveInt("n_head_kv") : heads;
        } else {
            kvHeads = r.bool("multi_query", true) ? 1 : heads;
        }
        if (heads % kvHeads != 0) r.fail("num_attention_heads " + heads + " is not a multiple of num_kv_heads " + kvHeads);
        if (hidden % heads != 0) r.fail("hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
        if (newArch && r.has("num_ln_in_parallel_attn") && r.c.get("num_ln_in_parallel_attn").asInt(2) != 2) {
            r.fail("num_ln_in_parallel_attn " + r.c.get("num_ln_in_parallel_attn") + " is not supported (only 2)");
        }
        int ffn = r.has("ffn_hidden_size") && !r.c.get("ffn_hidden_size").isNull() ? r.positiveInt("ffn_hidden_size") : 4 * hidden;
        int maxPositions = r.has("max_position_embeddings") ? r.positiveInt("max_position_embeddings") : 2048;
        return new ModelConfig(Family.FALCON, "FalconForCausalLM", r.positiveInt("vocab_size"), hidden, ffn, layers, heads,
                kvHeads, hidden / heads, maxPositions, r.dbl("layer_norm_epsilon", 1e-5), ropeTheta(r),
                ropeScaling(r), r.bool("tie_word_embeddings", true), newArch, r.bool("parallel_attn", true), r.bool("bias", false), 0, 0);
    }

    /**
     * The RoPE base: {@code rope_theta}, or where transformers v5 writes it, {@code rope_parameters.rope_theta}
     * (with no top-level key); 10000 when neither is there.
     */
    private static double ropeTheta(Reader r) {
        if (r.has("rope_theta")) return r.dbl("rope_theta", 10000);
        JsonNode p = r.c.get("rope_parameters");
        if (p == null || p.isNull() || !p.has("rope_theta")) return 10000;
        if (!p.get("rope_theta").isNumber()) r.fail("'rope_parameters.rope_theta' is " + p.get("rope_theta") + ", not a number");
        return p.get("rope_theta").asDouble();
    }

    /** {@code rope_scaling}, or transformers v5's {@code rope_parameters}, which holds the same keys beside rope_theta. */
    private static RopeScaling ropeScaling(Reader r) {
        JsonNode s = r.c.get("rope_scaling");
        if (s == null || s.isNull()) s = r.c.get("rope_parameters");
        if (s == null || s.isNull()) return null;
        String type = s.has("rope_type") ? s.get("rope_type").asText() : s.path("type").asText("");
        switch (type) {
            case "default":
                return null;
            case "linear":
                return new RopeScaling("linear", s.path("factor").asDouble(1), 0, 0, 0);
            case "llama3":
                for (String k : List.of("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings")) {
                    if (!s.has(k)) r.fail("rope_scaling of type llama3 lacks '" + k + "'");
                }
                return new RopeScaling("llama3", s.get("factor").asDouble(), s.get("low_freq_factor").asDouble(),
                        s.get("high_freq_factor").asDouble(), s.get("original_max_position_embeddings").asInt());
            default:
                r.fail("rope type '" + type + "' (rope_scaling or rope_parameters) is not supported (supported: default, linear, llama3)");
                return null;
        }
    }

    /** Reads typed fields with errors naming the file and key. */
    private record Reader(Path file, JsonNode c) {
        boolean has(String key) {
            return c.has(key);
        }

        int positiveInt(String key) {
            JsonNode n = c.get(key);
            if (n == null || n.isNull()) fail("missing '" + key + "'");
            if (!n.isIntegralNumber() || n.asLong() <= 0 || n.asLong() > Integer.MAX_VALUE) fail("'" + key + "' is " + n + ", not a positive integer");
            return n.asInt();
        }

        double dbl(String key, double dflt) {
            JsonNode n = c.get(key);
            if (n == null || n.isNull()) return dflt;
            if (!n.isNumber()) fail("'" + key + "' is " + n + ", not a number");
            return n.asDouble();
        }

        boolean bool(String key, boolean dflt) {
            JsonNode n = c.get(key);
            if (n == null || n.isNull()) return dflt;
            if (!n.isBoolean()) fail("'" + key + "' is " + n + ", not true/false");
            return n.asBoolean();
        }

        void fail(String what) {
            throw new UserError(file + ": " + what);
        }
    }

    private static String text(JsonNode c, String key, String dflt) {
        JsonNode n = c.get(key);
        return n == null || n.isNull() ? dflt : n.asText();
    }
}
