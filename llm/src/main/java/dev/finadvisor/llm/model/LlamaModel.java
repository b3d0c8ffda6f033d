package dev.finadvisor.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Llama and the models that share its layout (Mistral, Qwen2 with q/k/v bias): pre-norm decoder
 * layers of RMSNorm, rotary grouped-query attention and a SiLU-gated MLP.
 */
public final class LlamaModel implements CausalLM {
    private record Layer(NDArray inputNorm, NDArray postNorm,
                         String q, String k, String v, String o, String gate, String up, String down) {}

    private final ModelConfig config;
    private final NDManager manager;
    private final TokenEmbedding embedTokens;
    private final NDArray finalNorm;
    private final List<Layer> layers = new ArrayList<>();
    private final Linears linears = new Linears();
    private final Map<String, NDArray> parameters;
    private final Rotary rotary;
    // Constants as long-lived tensors: scalar ops corrupt gradients under DJL autograd.
    private final NDArray eps;
    private final NDArray minusHalf;
    private final NDArray inverseHidden;
    private final NDArray scale;
    private final DecoderSlot decoders = new DecoderSlot();

    LlamaModel(ModelConfig c, NDManager manager, WeightLoader w) {
        this.config = c;
        this.manager = manager;
        long h = c.hiddenSize();
        long qDim = (long) c.numHeads() * c.headDim();
        long kvDim = (long) c.numKvHeads() * c.headDim();
        embedTokens = w.embedding("model.embed_tokens.weight", c.vocabSize(), h);
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            Layer l = new Layer(w.take(p + "input_layernorm.weight", h), w.take(p + "post_attention_layernorm.weight", h),
                    p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj", p + "self_attn.o_proj",
                    p + "mlp.gate_proj", p + "mlp.up_proj", p + "mlp.down_proj");
            linears.add(l.q, w.projection(l.q, qDim, h));
            linears.add(l.k, w.projection(l.k, kvDim, h));
            linears.add(l.v, w.projection(l.v, kvDim, h));
            linears.add(l.o, w.projection(l.o, h, qDim));
            linears.add(l.gate, w.projection(l.gate, c.intermediateSize(), h));
            linears.add(l.up, w.projection(l.up, c.intermediateSize(), h));
            linears.add(l.down, w.projection(l.down, h, c.intermediateSize()));
            layers.add(l);
        }
        finalNorm = w.take("model.norm.weight", h);
        // Tied: HF uses the embedding matrix as the output projection even if lm_head.weight was saved.
        linears.add("lm_head", c.tieWordEmbeddings() ? w.tiedHead(embedTokens) : w.head("lm_head", c.vocabSize(), h));
        parameters = Collections.unmodifiableMap(new LinkedHashMap<>(w.loaded));
        rotary = new Rotary(c.headDim(), c.ropeTheta(), c.ropeScaling());
        eps = manager.create((float) c.normEps());
        minusHalf = manager.create(-0.5f);
        inverseHidden = manager.create((float) (1.0 / h));
        scale = manager.create((float) (1.0 / Math.sqrt(c.headDim())));
    }

    @Override
    public Stages stages(NDArray inputIds, KvCache cache) {
        return new Pass(inputIds, cache);
    }

    /** One forward pass of this model's layers. */
    private final class Pass extends DecoderPass {
        Pass(NDArray inputIds, KvCache cache) {
            super(config, linears, embedTokens, rotary, scale, inputIds, cache);
        }

        @Override
        public NDArray layer(int i, NDArray x) {
            Layer l = layers.get(i);
            int heads = config.numHeads();
            int kvHeads = config.numKvHeads();
            int d = config.headDim();
            // attention block: x + o_proj(attn(rmsnorm(x)))
            NDArray n = rmsNorm(x, l.inputNorm);
            NDArray q = linears.get(l.q).apply(n).reshape(b, s, heads, d).transpose(0, 2, 1, 3);
            NDArray k = linears.get(l.k).apply(n).reshape(b, s, kvHeads, d).transpose(0, 2, 1, 3);
            NDArray v = linears.get(l.v).apply(n).reshape(b, s, kvHeads, d).transpose(0, 2, 1, 3);
            q = queryRope.apply(q);
            k = rope.apply(k);
            if (cache != null) {
                NDArray[] kv = cache.append(i, k, v);
                k = kv[0];
                v = kv[1];
            }
            x = x.add(linears.get(l.o).apply(Attention.attend(q, k, v, mask(i))));
            // MLP block: x + down(silu(gate(n)) * up(n))
            n = rmsNorm(x, l.postNorm);
            NDArray gate = linears.get(l.gate).apply(n);
            NDArray act = gate.mul(Activation.sigmoid(gate));
            return x.add(linears.get(l.down).apply(act.mul(linears.get(l.up).apply(n))));
        }

        @Override
        NDArray finalNorm(NDArray x) {
            return rmsNorm(x, finalNorm);
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

    private LlamaDecoder buildDecoder() {
        JavaDecode.Projection head = JavaDecode.projection(linears.get("lm_head"));
        if (head == null) return null;
        List<LlamaDecoder.Layer> decoded = new ArrayList<>();
        for (Layer l : layers) {
            JavaDecode.Projection[] p = JavaDecode.projections(linears, l.q, l.k, l.v, l.o, l.gate, l.up, l.down);
            if (p == null) return null;
            decoded.add(new LlamaDecoder.Layer(l.inputNorm.toFloatArray(), l.postNorm.toFloatArray(), p[0], p[1], p[2], p[3], p[4], p[5], p[6]));
        }
        JavaDecode shared = new JavaDecode(config, rotary, embedTokens, JavaDecode.defaultThreads());
        return new LlamaDecoder(shared, config, finalNorm.toFloatArray(), decoded, head);
    }

    /** x * (mean(x^2) + eps)^-1/2 * weight over the last axis, as HF multiplies by rsqrt (a product's backward is
     * two passes over x where a quotient's is five). mean(x^2) as |x|^2 / hidden: the 2-norm reads x once and its
     * backward is one pass over x, where x*x then mean is two passes forward and four backward. */
    private NDArray rmsNorm(NDArray x, NDArray weight) {
        NDArray norm = x.norm(new int[] {-1}, true);
        NDArray inverseRms = norm.mul(norm).mul(inverseHidden).add(eps).pow(minusHalf);
        return x.mul(inverseRms).mul(weight);
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
    public void close() {
        decoders.close();
        manager.close();
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
