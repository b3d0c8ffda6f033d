package dev.finadvisor.llm;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.finadvisor.llm.safetensors.Dtype;
import dev.finadvisor.llm.safetensors.HalfFloats;
import dev.finadvisor.llm.safetensors.SafetensorsShards;
import dev.finadvisor.llm.safetensors.SafetensorsWriter;
import dev.finadvisor.llm.tokenizer.ByteLevelBpeBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a Hugging Face checkpoint folder with seeded random weights (config.json,
 * model.safetensors, tokenizer.json built here, tokenizer_config.json, generation_config.json), for
 * tests in every module and for benchmarks: the same spec and seed give the same bytes.
 *
 * @param architecture  {@code LlamaForCausalLM}, {@code MistralForCausalLM}, {@code Qwen2ForCausalLM} or {@code FalconForCausalLM}
 * @param extraConfig   further config.json keys (rope_scaling, new_decoder_architecture, ...), written last
 * @param initStd       standard deviation of the weights (norm weights are 1 + noise)
 */
public record RandomCheckpoint(String architecture, int hiddenSize, int intermediateSize, int layers, int heads, int kvHeads,
                               int vocabSize, int maxPositions, boolean tieEmbeddings, Map<String, Object> extraConfig,
                               Dtype dtype, double initStd, long seed) {

    /** The tiny families of {@link #tiny}. */
    public static final List<String> TINY = List.of("llama", "llama3", "mistral", "qwen2", "falcon", "falcon-new", "falcon-seq");

    public static final String PAD = "<pad>";
    public static final String BOS = "<s>";
    public static final String EOS = "</s>";
    /** Special tokens in id order: pad 0, bos 1, eos 2, then ChatML's markers. */
    public static final List<String> SPECIALS = List.of(PAD, BOS, EOS, "<|im_start|>", "<|im_end|>");

    /** A text the tokenizer learns its merges from: the domain's words become single tokens. */
    static final String CORPUS = """
            The stock market rallied today as investors weighed the latest inflation report. Shares of Apple and \
            Tesla rose while bond yields fell. Analysts said the Federal Reserve may cut interest rates this year. \
            I am a 30 year old investor with a moderate risk tolerance. Should I buy more index funds or hold cash? \
            The company reported strong earnings and raised its guidance for the quarter. Revenue grew by ten percent. \
            Diversify your portfolio, keep an emergency fund, and invest for the long term. The market is volatile. \
            Earnings, revenue, interest, investors, invest, market, stock, stocks, shares, price, prices, risk.""";

    public RandomCheckpoint {
        extraConfig = Map.copyOf(extraConfig);
    }

    /**
     * A tiny model of {@code family} for tests: "llama" (GQA), "llama3" (llama3 rope scaling, tied, bf16 weights),
     * "mistral" (one kv head), "qwen2" (q/k/v bias, tied), "falcon" (7B layout: multi-query, parallel),
     * "falcon-new" (40B layout: ln_attn/ln_mlp, grouped kv), "falcon-seq" (no parallel attention, full heads, bias).
     */
    public static RandomCheckpoint tiny(String family) {
        return switch (family) {
            case "llama" -> new RandomCheckpoint("LlamaForCausalLM", 64, 96, 2, 4, 2, 384, 256, false, Map.of(), Dtype.F32, 0.08, 1);
            case "llama3" -> new RandomCheckpoint("LlamaForCausalLM", 64, 96, 2, 4, 1, 384, 256, true,
                    Map.of("rope_theta", 500000.0, "rope_scaling", Map.of("rope_type", "llama3", "factor", 8.0,
                            "low_freq_factor", 1.0, "high_freq_factor", 4.0, "original_max_position_embeddings", 64)),
                    Dtype.BF16, 0.08, 2);
            case "mistral" -> new RandomCheckpoint("MistralForCausalLM", 64, 128, 2, 4, 1, 384, 256, false,
                    Map.of("sliding_window", 4096), Dtype.F32, 0.08, 3);
            case "qwen2" -> new RandomCheckpoint("Qwen2ForCausalLM", 64, 96, 2, 4, 2, 384, 256, true,
                    Map.of("rope_theta", 1000000.0, "rms_norm_eps", 1e-6), Dtype.F32, 0.08, 4);
            case "falcon" -> new RandomCheckpoint("FalconForCausalLM", 64, 256, 2, 4, 1, 384, 256, true,
                    Map.of("new_decoder_architecture", false, "multi_query", true, "parallel_attn", true, "bias", false), Dtype.F32, 0.08, 5);
            case "falcon-new" -> new RandomCheckpoint("FalconForCausalLM", 64, 256, 2, 4, 2, 384, 256, true,
                    Map.of("new_decoder_architecture", true, "num_kv_heads", 2, "parallel_attn", true, "bias", false), Dtype.F32, 0.08, 6);
            case "falcon-seq" -> new RandomCheckpoint("FalconForCausalLM", 64, 256, 2, 4, 4, 384, 256, false,
                    Map.of("new_decoder_architecture", false, "multi_query", false, "parallel_attn", false, "bias", true), Dtype.F32, 0.08, 7);
            default -> throw new IllegalArgumentException("unknown tiny family '" + family + "' (" + String.join(", ", TINY) + ")");
        };
    }

    /** The benchmark's Llama: about 110M parameters (hidden 768, 12 layers, vocab 32000, tied). */
    public static RandomCheckpoint bench100m() {
        return new RandomCheckpoint("LlamaForCausalLM", 768, 2048, 12, 12, 12, 32000, 2048, true, Map.of(), Dtype.F32, 0.02, 42);
    }

    /** A TinyLlama-1.1B-shaped Llama in bf16 (hidden 2048, 22 layers, 4 kv heads, intermediate 5632, untied), as hub checkpoints ship. */
    public static RandomCheckpoint bench1b() {
        return new RandomCheckpoint("LlamaForCausalLM", 2048, 5632, 22, 32, 4, 32000, 2048, false, Map.of(), Dtype.BF16, 0.02, 42);
    }

    /**
     * Falcon-7B's exact configuration (tiiuae/falcon-7b's config.json: hidden 4544, 71 query heads sharing one key/value head,
     * 32 layers, vocab 65024, parallel attention and MLP, no biases, tied embedding), bf16, in two shards as on the hub.
     */
    public static RandomCheckpoint falcon7b() {
        return new RandomCheckpoint("FalconForCausalLM", 4544, 4 * 4544, 32, 71, 1, 65024, 2048, true,
                Map.of("new_decoder_architecture", false, "multi_query", true, "parallel_attn", true, "bias", false), Dtype.BF16, 0.02, 42);
    }

    /** Llama-2-7B's shape (hidden 4096, intermediate 11008, 32 layers, 32 heads, vocab 32000, untied, 4096 positions), bf16, sharded. */
    public static RandomCheckpoint llama7b() {
        return new RandomCheckpoint("LlamaForCausalLM", 4096, 11008, 32, 32, 32, 32000, 4096, false, Map.of(), Dtype.BF16, 0.02, 42);
    }

    /** The presets beside the tiny families. */
    public static final List<String> PRESETS = List.of("bench100m", "bench1b", "falcon7b", "llama7b");

    /** A preset by name: a tiny family ({@link #tiny}) or one of {@link #PRESETS}. */
    public static RandomCheckpoint preset(String name) {
        return switch (name) {
            case "bench100m" -> bench100m();
            case "bench1b" -> bench1b();
            case "falcon7b" -> falcon7b();
            case "llama7b" -> llama7b();
            default -> {
                if (!TINY.contains(name)) {
                    throw new IllegalArgumentException("unknown preset '" + name + "' (" + String.join(", ", TINY) + ", "
                            + String.join(", ", PRESETS) + ")");
                }
                yield tiny(name);
            }
        };
    }

    public RandomCheckpoint withSeed(long newSeed) {
        return new RandomCheckpoint(architecture, hiddenSize, intermediateSize, layers, heads, kvHeads, vocabSize, maxPositions,
                tieEmbeddings, extraConfig, dtype, initStd, newSeed);
    }

    public RandomCheckpoint withDtype(Dtype newDtype) {
        return new RandomCheckpoint(architecture, hiddenSize, intermediateSize, layers, heads, kvHeads, vocabSize, maxPositions,
                tieEmbeddings, extraConfig, newDtype, initStd, seed);
    }

    private boolean falcon() {
        return architecture.equals("FalconForCausalLM");
    }

    private boolean flag(String key) {
        return Boolean.TRUE.equals(extraConfig.get(key));
    }

    /** Writes the folder (created if missing) and returns it; weights above 10 GB go in shards, as the hub has them. */
    public Path write(Path dir) throws IOException {
        return write(dir, SHARD_BYTES);
    }

    /** The same with shards of at most {@code shardBytes} (a tensor larger than that gets a shard of its own). */
    public Path write(Path dir, long shardBytes) throws IOException {
        Files.createDirectories(dir);
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        json.writeValue(dir.resolve("config.json").toFile(), config());
        json.writeValue(dir.resolve("generation_config.json").toFile(), Map.of("bos_token_id", 1, "eos_token_id", 2, "pad_token_id", 0));
        writeTokenizer(dir, CORPUS, vocabSize, !falcon(), maxPositions);
        writeWeights(dir, shardBytes);
        return dir;
    }

    /**
     * Writes {@code tokenizer.json} (byte-level BPE of exactly {@code vocabSize} tokens learned from {@code corpus}:
     * {@link #SPECIALS} first, pad 0, bos 1, eos 2) and {@code tokenizer_config.json} (those tokens, a ChatML chat template,
     * {@code maxLength}) into {@code dir}; with {@code bos}, encoding with special tokens prepends it, as Llama's does.
     */
    public static void writeTokenizer(Path dir, String corpus, int vocabSize, boolean bos, int maxLength) throws IOException {
        writeTokenizer(dir, corpus, vocabSize, bos, maxLength, EOS);
    }

    /**
     * {@link #writeTokenizer(Path, String, int, boolean, int)} with the end-of-sequence token (id 2) spelt {@code eos}, e.g.
     * {@code <|endoftext|>}, the falcon template's end marker: a model that learnt to end its documents with id 2 then
     * ends its answers in that template the same way.
     */
    public static void writeTokenizer(Path dir, String corpus, int vocabSize, boolean bos, int maxLength, String eos) throws IOException {
        List<String> specials = new ArrayList<>(SPECIALS);
        specials.set(2, eos);
        if (eos.isBlank() || specials.indexOf(eos) != 2 || specials.lastIndexOf(eos) != 2) {
            throw new IllegalArgumentException("the end-of-sequence token '" + eos + "' must be non-blank and differ from " + PAD + ", " + BOS
                    + ", <|im_start|> and <|im_end|>");
        }
        Files.createDirectories(dir);
        Map<String, Object> tokConfig = new LinkedHashMap<>();
        tokConfig.put("tokenizer_class", "PreTrainedTokenizerFast");
        tokConfig.put("bos_token", BOS);
        tokConfig.put("eos_token", eos);
        tokConfig.put("pad_token", PAD);
        tokConfig.put("model_max_length", maxLength);
        tokConfig.put("chat_template", "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
                + "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}");
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(dir.resolve("tokenizer_config.json").toFile(), tokConfig);
        Files.writeString(dir.resolve("tokenizer.json"), ByteLevelBpeBuilder.build(specials, bos ? BOS : null, corpus, vocabSize));
    }

    /** Shards of at most this many bytes, as transformers' save_pretrained splits (its default max_shard_size, "10GB"). */
    static final long SHARD_BYTES = 10_000_000_000L;

    /** {@code model.safetensors}, or above {@code shardBytes} shards and their index as the hub has them; values are drawn as they are written. */
    private void writeWeights(Path dir, long shardBytes) throws IOException {
        Weights w = weights();
        if (w.bytes() <= shardBytes) {
            w.shard(0, w.planned.size()).write(dir.resolve(SafetensorsShards.SINGLE));
            return;
        }
        List<int[]> ranges = new ArrayList<>();
        long size = 0;
        int first = 0;
        for (int i = 0; i < w.planned.size(); i++) {
            long b = w.planned.get(i).bytes();
            if (i > first && size + b > shardBytes) {
                ranges.add(new int[] {first, i});
                first = i;
                size = 0;
            }
            size += b;
        }
        ranges.add(new int[] {first, w.planned.size()});
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (int s = 0; s < ranges.size(); s++) {
            String file = String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", s + 1, ranges.size());
            int[] r = ranges.get(s);
            for (Planned t : w.planned.subList(r[0], r[1])) weightMap.put(t.name(), file);
            w.shard(r[0], r[1]).write(dir.resolve(file));
        }
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("metadata", Map.of("total_size", w.bytes()));
        index.put("weight_map", weightMap);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(dir.resolve(SafetensorsShards.INDEX).toFile(), index);
    }

    private Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of(architecture));
        c.put("model_type", switch (architecture) {
            case "MistralForCausalLM" -> "mistral";
            case "Qwen2ForCausalLM" -> "qwen2";
            case "FalconForCausalLM" -> "falcon";
            default -> "llama";
        });
        c.put("vocab_size", vocabSize);
        c.put("hidden_size", hiddenSize);
        c.put("num_attention_heads", heads);
        c.put("num_hidden_layers", layers);
        c.put("max_position_embeddings", maxPositions);
        c.put("tie_word_embeddings", tieEmbeddings);
        c.put("bos_token_id", 1);
        c.put("eos_token_id", 2);
        c.put("torch_dtype", switch (dtype) { case BF16 -> "bfloat16"; case F16 -> "float16"; default -> "float32"; });
        if (falcon()) {
            c.put("ffn_hidden_size", intermediateSize);
            c.put("layer_norm_epsilon", 1e-5);
            c.put("alibi", false);
        } else {
            c.put("intermediate_size", intermediateSize);
            c.put("num_key_value_heads", kvHeads);
            c.put("rms_norm_eps", 1e-5);
            c.put("rope_theta", 10000.0);
            c.put("hidden_act", "silu");
        }
        c.putAll(extraConfig);
        return c;
    }

    private Weights weights() {
        Weights w = new Weights(new SplittableRandom(seed));
        long h = hiddenSize;
        int d = hiddenSize / heads;
        if (falcon()) {
            boolean newArch = flag("new_decoder_architecture");
            boolean bias = flag("bias");
            w.matrix("transformer.word_embeddings.weight", vocabSize, h, initStd);
            for (int i = 0; i < layers; i++) {
                String p = "transformer.h." + i + ".";
                if (newArch) {
                    w.norm(p + "ln_attn", h, true);
                    w.norm(p + "ln_mlp", h, true);
                } else {
                    w.norm(p + "input_layernorm", h, true);
                    if (!flag("parallel_attn")) w.norm(p + "post_attention_layernorm", h, true);
                }
                w.linear(p + "self_attention.query_key_value", (heads + 2L * kvHeads) * d, h, bias, initStd);
                w.linear(p + "self_attention.dense", h, h, bias, initStd);
                w.linear(p + "mlp.dense_h_to_4h", intermediateSize, h, bias, initStd);
                w.linear(p + "mlp.dense_4h_to_h", h, intermediateSize, bias, initStd);
            }
            w.norm("transformer.ln_f", h, true);
        } else {
            boolean qkvBias = architecture.equals("Qwen2ForCausalLM");
            w.matrix("model.embed_tokens.weight", vocabSize, h, initStd);
            for (int i = 0; i < layers; i++) {
                String p = "model.layers." + i + ".";
                w.norm(p + "input_layernorm", h, false);
                w.linear(p + "self_attn.q_proj", (long) heads * d, h, qkvBias, initStd);
                w.linear(p + "self_attn.k_proj", (long) kvHeads * d, h, qkvBias, initStd);
                w.linear(p + "self_attn.v_proj", (long) kvHeads * d, h, qkvBias, initStd);
                w.linear(p + "self_attn.o_proj", h, (long) heads * d, false, initStd);
                w.norm(p + "post_attention_layernorm", h, false);
                w.linear(p + "mlp.gate_proj", intermediateSize, h, false, initStd);
                w.linear(p + "mlp.up_proj", intermediateSize, h, false, initStd);
                w.linear(p + "mlp.down_proj", h, intermediateSize, false, initStd);
            }
            w.norm("model.norm", h, false);
        }
        if (!tieEmbeddings) w.matrix("lm_head.weight", vocabSize, h, initStd);
        return w;
    }

    /** A tensor to write: Gaussian values of mean {@code mean} and deviation {@code std}. */
    private record Planned(String name, long[] shape, double mean, double std, Dtype dtype) {
        long bytes() {
            long n = dtype.bytes();
            for (long d : shape) n *= d;
            return n;
        }
    }

    /** Plans the tensors, then draws their values in that fixed order as the files are written, so a seed names one checkpoint. */
    private final class Weights {
        final SplittableRandom rnd;
        final List<Planned> planned = new ArrayList<>();

        Weights(SplittableRandom rnd) {
            this.rnd = rnd;
        }

        long bytes() {
            return planned.stream().mapToLong(Planned::bytes).sum();
        }

        /** A writer of tensors {@code [from, to)}; shards must be written in order, as the values are drawn in order. */
        SafetensorsWriter shard(int from, int to) {
            SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
            for (Planned t : planned.subList(from, to)) writer.add(t.name(), t.dtype(), t.shape(), chunk -> draw(t, chunk));
            return writer;
        }

        private void draw(Planned t, java.nio.ByteBuffer chunk) {
            while (chunk.hasRemaining()) {
                float v = (float) (t.mean() + rnd.nextGaussian() * t.std());
                switch (t.dtype()) {
                    case F32 -> chunk.putFloat(v);
                    case BF16 -> chunk.putShort(HalfFloats.floatToBf16(v));
                    case F16 -> chunk.putShort(HalfFloats.floatToF16(v));
                    default -> throw new IllegalArgumentException("cannot draw " + t.dtype() + " values");
                }
            }
        }

        void matrix(String name, long rows, long cols, double std) {
            planned.add(new Planned(name, new long[] {rows, cols}, 0, std, dtype));
        }

        void linear(String path, long out, long in, boolean bias, double std) {
            matrix(path + ".weight", out, in, std);
            if (bias) vector(path + ".bias", out, 0, std);
        }

        void norm(String path, long h, boolean withBias) {
            vector(path + ".weight", h, 1, 0.1);
            if (withBias) vector(path + ".bias", h, 0, 0.1);
        }

        void vector(String name, long n, double mean, double std) {
            planned.add(new Planned(name, new long[] {n}, mean, std, dtype));
        }
    }

    /** {@code RandomCheckpoint PRESET DIR [SEED]}: writes a checkpoint (presets: the tiny families and {@link #PRESETS}). */
    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: RandomCheckpoint PRESET DIR [SEED]   (PRESET: " + String.join(", ", TINY) + ", " + String.join(", ", PRESETS) + ")");
            System.exit(2);
        }
        RandomCheckpoint spec = preset(args[0]);
        if (args.length > 2) spec = spec.withSeed(Long.parseLong(args[2]));
        System.out.println(spec.write(Path.of(args[1])));
    }
}
