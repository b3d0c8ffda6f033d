package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.norm.LayerNorm;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Falcon (the course's base model): a fused query_key_value projection, multi-query or grouped
 * attention with rotary positions, LayerNorm, a GELU MLP, and attention and MLP in parallel. The old
 * decoder (7B: one LayerNorm feeds both) and the new one (40B/180B: ln_attn and ln_mlp) are both read.
 */
public final class FalconModel implements CausalLM {
    private record Norm(NDArray weight, NDArray bias) {}

    private record Layer(Norm attnNorm, Norm mlpNorm, String qkv, String dense, String up, String down) {}

    private final ModelConfig config;
    private final NDManager manager;
    private final TokenEmbedding wordEmbeddings;
    private final Norm finalNorm;
    private final List<Layer> layers = new ArrayList<>();
    private final Linears linears = new Linears();
    private final Map<String, NDArray> parameters;
    private final Rotary rotary;
    private final NDArray scale;
    private final DecoderSlot decoders = new DecoderSlot();

    FalconModel(ModelConfig c, NDManager manager, WeightLoader w) {
        this.config = c;
        this.manager = manager;
        long h = c.hiddenSize();
        long d = c.headDim();
        long qkvOut = (c.numHeads() + 2L * c.numKvHeads()) * d;
        wordEmbeddings = w.embedding("transformer.word_embeddings.weight", c.vocabSize(), h);
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "transformer.h." + i + ".";
            Norm attnNorm;
            Norm mlpNorm;
            if (c.newDecoderArchitecture()) {
                attnNorm = norm(w, p + "ln_attn", h);
                mlpNorm = norm(w, p + "ln_mlp", h);
            } else {
                attnNorm = norm(w, p + "input_layernorm", h);
                mlpNorm = c.parallelAttention() ? null : norm(w, p + "post_attention_layernorm", h);
            }
            Layer l = new Layer(attnNorm, mlpNorm, p + "self_attention.query_key_value", p + "self_attention.dense",
                    p + "mlp.dense_h_to_4h", p + "mlp.dense_4h_to_h");
            linears.add(l.qkv, w.projection(l.qkv, qkvOut, h));
            linears.add(l.dense, w.projection(l.dense, h, h));
            linears.add(l.up, w.projection(l.up, c.intermediateSize(), h));
            linears.add(l.down, w.projection(l.down, h, c.intermediateSize()));
            layers.add(l);
        }
        finalNorm = norm(w, "transformer.ln_f", h);
        linears.add("lm_head", c.tieWordEmbeddings() ? w.tiedHead(wordEmbeddings) : w.head("lm_head", c.vocabSize(), h));
        parameters = Collections.unmodifiableMap(new LinkedHashMap<>(w.loaded));
        rotary = new Rotary(c.headDim(), c.ropeTheta(), c.ropeScaling());
        scale = manager.create((float) (1.0 / Math.sqrt(c.headDim())));
    }

    private static Norm norm(WeightLoader w, String path, long h) {
        return new Norm(w.take(path + ".weight", h), w.take(path + ".bias", h));
    }

    @Override
    public Stages stages(NDArray inputIds, KvCache cache) {
        return new Pass(inputIds, cache);
    }

    /** One forward pass of this model's layers. */
    private final class Pass extends DecoderPass {
        Pass(NDArray inputIds, KvCache cache) {
            super(config, linears, wordEmbeddings, rotary, scale, inputIds, cache);
        }

        @Override
        public NDArray layer(int i, NDArray x) {
            Layer l = layers.get(i);
            int heads = config.numHeads();
            int kvHeads = config.numKvHeads();
            int d = config.headDim();
            int perGroup = heads / kvHeads;
            NDArray attnIn = layerNorm(x, l.attnNorm);
            NDArray fused = linears.get(l.qkv).apply(attnIn);
            NDArray q;
            NDArray k;
            NDArray v;
            if (config.newDecoderArchitecture() || kvHeads == 1) {
                // per kv group: its query heads, then one key head, then one value head
                NDArray g = fused.reshape(b, s, kvHeads, perGroup + 2, d);
                q = g.get(":, :, :, :" + perGroup + ", :").reshape(b, s, heads, d);
                k = g.get(":, :, :, " + perGroup + ", :");
                v = g.get(":, :, :, " + (perGroup + 1) + ", :");
            } else {
                // full multi-head: per head (q, k, v)
                NDArray g = fused.reshape(b, s, heads, 3, d);
                q = g.get(":, :, :, 0, :");
                k = g.get(":, :, :, 1, :");
                v = g.get(":, :, :, 2, :");
            }
            q = queryRope.apply(q.transpose(0, 2, 1, 3));
            k = rope.apply(k.transpose(0, 2, 1, 3));
            v = v.transpose(0, 2, 1, 3);
            if (cache != null) {
                NDArray[] kv = cache.append(i, k, v);
                k = kv[0];
                v = kv[1];
            }
            NDArray attnOut = linears.get(l.dense).apply(Attention.attend(q, k, v, mask(i)));
            NDArray mlpIn;
            NDArray residual = x;
            if (config.newDecoderArchitecture()) {
                mlpIn = layerNorm(x, l.mlpNorm);
            } else if (config.parallelAttention()) {
                mlpIn = attnIn;
            } else {
                residual = x.add(attnOut);
                mlpIn = layerNorm(residual, l.mlpNorm);
            }
            NDArray mlpOut = linears.get(l.down).apply(Activation.gelu(linears.get(l.up).apply(mlpIn)));
            if (config.newDecoderArchitecture() || config.parallelAttention()) mlpOut = mlpOut.add(attnOut);
            return residual.add(mlpOut);
        }

        @Override
        NDArray finalNorm(NDArray x) {
            return layerNorm(x, finalNorm);
        }
    }

    @Override
    public float[][] decode(int[] tokens, KvCache[] caches) {
        boolean inJava = java.util.Arrays.stream(caches).allMatch(c -> c.batch() == 1 && c.javaAddressable());
        DecoderSlot.StepDecoder d = inJava ? decoder() : null;
        return d == null ? CausalLM.super.decode(tokens, caches) : d.step(tokens, caches);
    }

    /** The Java decoder, or null when it cannot run here (no Vector API) or some projection is neither fp32 dense nor packed (+ LoRA). */
    DecoderSlot.StepDecoder decoder() {
        return decoders.get(this::buildDecoder);
    }

    private FalconDecoder buildDecoder() {
        JavaDecode.Projection head = JavaDecode.projection(linears.get("lm_head"));
        if (head == null) return null;
        List<FalconDecoder.Layer> decoded = new ArrayList<>();
        for (Layer l : layers) {
            JavaDecode.Projection[] p = JavaDecode.projections(linears, l.qkv, l.dense, l.up, l.down);
            if (p == null) return null;
            decoded.add(new FalconDecoder.Layer(norm(l.attnNorm), l.mlpNorm == null ? null : norm(l.mlpNorm), p[0], p[1], p[2], p[3]));
        }
        JavaDecode shared = new JavaDecode(config, rotary, wordEmbeddings, JavaDecode.defaultThreads());
        return new FalconDecoder(shared, config, norm(finalNorm), decoded, head);
    }

    private static FalconDecoder.Norm norm(Norm n) {
        return new FalconDecoder.Norm(n.weight.toFloatArray(), n.bias.toFloatArray());
    }

    @Override
    public void close() {
        decoders.close();
        manager.close();
    }

    private NDArray layerNorm(NDArray x, Norm n) {
        return LayerNorm.layerNorm(x, new Shape(config.hiddenSize()), n.weight, n.bias, (float) config.normEps()).singletonOrThrow();
    }

    @Override
    public KvCache newCache(int batch, int capacity) {
        return new KvCache(manager, layers.size(), batch, config.numKvHeads(), capacity, config.headDim());
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public Map<String, Linear> linears() {
        return linears.view();
    }

    @Override
    public void replaceLinear(String path, Linear replacement) {
        linears.replace(path, replacement);
        decoders.reset();
    }

    @Override
    public Map<String, NDArray> parameters() {
        return parameters;
    }

    @Override
    public NDManager manager() {
        return manager;
    }
}
