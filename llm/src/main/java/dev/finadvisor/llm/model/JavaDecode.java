package dev.finadvisor.llm.model;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.EngineMemory;
import dev.finadvisor.llm.lowbit.PackedWeight;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * What the Java decoders ({@link LlamaDecoder}, {@link FalconDecoder}) share: one decode step (batch 1,
 * one new position) reads every weight once for two FLOPs per weight, so its speed is memory bandwidth,
 * and the engine's GEMV reached a quarter of it on this CPU. These loops read the engine's weight and
 * KV-cache memory in place (no second copy of the weights) with the Vector API, split across a few
 * threads. Same math as the engine forward pass in the same fp32 order of operations except summation
 * order (logits agree to ~1e-6); prefill and training stay on the engine.
 */
public final class JavaDecode implements AutoCloseable {
    /**
     * A weight {@code [rows, in]}: fp32 in engine memory, or packed (bf16, int8, NF4) with room for the input as its
     * rows read it; its bias (null: none) and a LoRA update (null: none), applied unmerged beside the weight.
     */
    record Projection(ByteBuffer weight, PackedWeight packed, float[] prepared, float[] bias, int rows, int in, Lora lora) {
        static Projection fp32(ByteBuffer weight, float[] bias, int rows, int in, Lora lora) {
            return new Projection(weight, null, null, bias, rows, in, lora);
        }

        static Projection packed(PackedLinear linear, Lora lora) {
            PackedWeight w = linear.weight();
            return new Projection(null, w, new float[w.preparedLength()], linear.biasValues(), w.rows(), w.cols(), lora);
        }
    }

    /** LoRA factors A {@code [r, in]} and B {@code [rows, r]} in engine memory (live: training updates show), and room for A x. */
    record Lora(ByteBuffer a, ByteBuffer b, int r, float scale, float[] low) {}

    private final ModelConfig config;
    private final Rotary rotary;
    private final TokenEmbedding embed;
    private final RowPool pool;
    final int hidden;
    final int heads;
    final int kvHeads;
    final int headDim;
    private final float scale;
    /** The current position's query, key and value heads, and the attention output: filled by the decoder, then by attend. */
    final float[] q;
    final float[] k;
    final float[] v;
    final float[] attended;
    private float[] scores = new float[0];

    JavaDecode(ModelConfig c, Rotary rotary, TokenEmbedding embed, int threads) {
        this.config = c;
        this.rotary = rotary;
        this.embed = embed;
        this.hidden = c.hiddenSize();
        this.heads = c.numHeads();
        this.kvHeads = c.numKvHeads();
        this.headDim = c.headDim();
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        q = new float[heads * headDim];
        k = new float[kvHeads * headDim];
        v = new float[kvHeads * headDim];
        attended = new float[heads * headDim];
        pool = new RowPool(threads);
    }

    /** Whether a model loaded now decodes in Java: the Vector API is there and {@code -Dfinadvisor.decode=engine} is not set. */
    static boolean enabled() {
        return EngineMemory.VECTOR_API && !"engine".equals(System.getProperty("finadvisor.decode"));
    }

    /** What decodes batch-1 steps in this JVM, for {@code doctor}. */
    public static String describe() {
        if (!EngineMemory.VECTOR_API) return "engine ops (start Java with --add-modules jdk.incubator.vector, as ./finadvisor does, for Java SIMD decoding)";
        if (!enabled()) return "engine ops (-Dfinadvisor.decode=engine)";
        return "Java SIMD loops, " + defaultThreads() + " threads (fp32, bf16, int8 and NF4 weights; the trainer's NF4 bases decode with engine ops)";
    }

    /** Threads for decoding: {@code -Dfinadvisor.decode.threads}, else the engine's intra-op threads, else every core. */
    static int defaultThreads() {
        String own = System.getProperty("finadvisor.decode.threads");
        String engine = System.getProperty("ai.djl.pytorch.num_threads");
        String chosen = own != null ? own : engine;
        try {
            return chosen == null ? Runtime.getRuntime().availableProcessors() : Math.max(1, Integer.parseInt(chosen.strip()));
        } catch (NumberFormatException e) {
            throw new UserError("-D" + (own != null ? "finadvisor.decode.threads" : "ai.djl.pytorch.num_threads") + "=" + chosen
                    + " is not a whole number of threads");
        }
    }

    /**
     * The projection's weights in place, or null when it is neither a fp32 {@link DenseLinear} nor a {@link PackedLinear},
     * nor a fp32 LoRA update of one (the trainer's NF4 bases, float64 factors: the engine decodes those).
     */
    static Projection projection(Linear linear) {
        Lora lora = null;
        if (linear instanceof LowRankLinear lowRank) {
            ByteBuffer a = EngineMemory.floats(lowRank.a());
            ByteBuffer b = EngineMemory.floats(lowRank.b());
            if (a == null || b == null) return null;
            int r = (int) lowRank.a().getShape().get(0);
            lora = new Lora(a, b, r, (float) lowRank.scale(), new float[r]);
            linear = lowRank.base();
        }
        if (linear instanceof PackedLinear packed) return Projection.packed(packed, lora);
        if (!(linear instanceof DenseLinear dense)) return null;
        ByteBuffer w = EngineMemory.floats(dense.weight());
        if (w == null) return null;
        float[] bias = dense.bias() == null ? null : dense.bias().toFloatArray();
        return Projection.fp32(w, bias, dense.outFeatures(), dense.inFeatures(), lora);
    }

    /** The projections at {@code paths} in {@code linears}, or null when any of them cannot decode in Java. */
    static Projection[] projections(Linears linears, String... paths) {
        Projection[] p = new Projection[paths.length];
        for (int j = 0; j < p.length; j++) {
            p[j] = projection(linears.get(paths[j]));
            if (p[j] == null) return null;
        }
        return p;
    }

    /** Checks there is room for one more position and returns it; writes the token's embedding into {@code x}. */
    int begin(int token, KvCache cache, float[] x) {
        int pos = cache.length();
        if (pos + 1 > config.maxPositions()) {
            throw new UserError("sequence of " + (pos + 1) + " tokens exceeds the model's context of " + config.maxPositions());
        }
        cache.checkRoom(1);
        if (scores.length < heads * cache.capacity()) scores = new float[heads * cache.capacity()];
        embed.row(token, x);
        return pos;
    }

    /** Up to three projections of the same input in one parallel loop over their rows together (null: absent). */
    void project(float[] input, Projection p1, float[] out1, Projection p2, float[] out2, Projection p3, float[] out3) {
        int r1 = p1.rows();
        int r2 = p2 == null ? 0 : p2.rows();
        int r3 = p3 == null ? 0 : p3.rows();
        prepare(p1, input);
        prepare(p2, input);
        prepare(p3, input);
        pool.run(r1 + r2 + r3, (from, to) -> {
            if (from < r1) rows(p1, input, out1, from, Math.min(to, r1));
            if (to > r1 && from < r1 + r2) rows(p2, input, out2, Math.max(from, r1) - r1, Math.min(to, r1 + r2) - r1);
            if (to > r1 + r2) rows(p3, input, out3, Math.max(from, r1 + r2) - r1 - r2, to - r1 - r2);
        });
    }

    void project(float[] input, Projection p, float[] out) {
        project(input, p, out, null, null, null, null);
    }

    /** What a projection's rows need of the input before they run: a packed weight's arrangement of it, LoRA's low-rank product. */
    private static void prepare(Projection p, float[] input) {
        if (p == null) return;
        if (p.packed() != null) p.packed().prepare(input, p.prepared());
        lowRank(p, input);
    }

    /** LoRA's {@code (x A^T) * scale} (r values), before the rows that need it: the order of operations of LoraLinear. */
    private static void lowRank(Projection p, float[] input) {
        if (p.lora() == null) return;
        Lora l = p.lora();
        for (int j = 0; j < l.r(); j++) l.low()[j] = VectorKernels.dot(l.a(), (long) j * p.in(), input, p.in()) * l.scale();
    }

    private static void rows(Projection p, float[] input, float[] out, int from, int to) {
        Lora l = p.lora();
        for (int r = from; r < to; r++) {
            float y = p.packed() != null ? p.packed().dot(r, p.prepared()) : VectorKernels.dot(p.weight(), (long) r * p.in(), input, p.in());
            if (p.bias() != null) y += p.bias()[r];
            if (l != null) y += VectorKernels.dot(l.b(), (long) r * l.r(), l.low(), l.r());
            out[r] = y;
        }
    }

    /**
     * Rotates {@link #q} and {@link #k} to position {@code pos}, stores k and v in layer {@code layer}'s cache and
     * writes the attention of every query head over positions {@code 0..pos} (a windowed layer: its last window) into
     * {@link #attended}.
     */
    void attend(int layer, KvCache cache, int pos) {
        rotary.rotate(q, heads, pos);
        rotary.rotate(k, kvHeads, pos);
        ByteBuffer keys = cache.buffer(layer, false);
        ByteBuffer values = cache.buffer(layer, true);
        int capacity = cache.capacity();
        for (int g = 0; g < kvHeads; g++) {
            int at = (g * capacity + pos) * headDim;
            keys.asFloatBuffer().put(at, k, g * headDim, headDim);
            values.asFloatBuffer().put(at, v, g * headDim, headDim);
        }
        int first = config.windowed(layer) ? Math.max(0, pos + 1 - config.slidingWindow()) : 0;
        pool.run(heads, (from, to) -> attendHeads(from, to, keys, values, capacity, first, pos + 1));
    }

    /** Attention of query heads {@code [from, to)} over cached positions {@code [first, length)}. */
    private void attendHeads(int from, int to, ByteBuffer keys, ByteBuffer values, int capacity, int first, int length) {
        int perKv = heads / kvHeads; // kv head g serves query heads g*perKv .. g*perKv+perKv-1
        for (int h = from; h < to; h++) {
            long base = (long) (h / perKv) * capacity * headDim;
            int s0 = h * capacity;
            float max = Float.NEGATIVE_INFINITY;
            for (int t = first; t < length; t++) {
                float s = VectorKernels.dot(keys, base + (long) t * headDim, q, h * headDim, headDim) * scale;
                scores[s0 + t] = s;
                if (s > max) max = s;
            }
            float sum = 0;
            for (int t = first; t < length; t++) {
                float e = (float) Math.exp(scores[s0 + t] - max);
                scores[s0 + t] = e;
                sum += e;
            }
            int o = h * headDim;
            Arrays.fill(attended, o, o + headDim, 0f);
            for (int t = first; t < length; t++) {
                VectorKernels.axpy(scores[s0 + t] / sum, values, base + (long) t * headDim, attended, o, headDim);
            }
        }
    }

    /** The output head's logits for the final normed hidden state. */
    float[] logits(float[] normed, Projection head) {
        float[] logits = new float[head.rows()];
        project(normed, head, logits);
        return logits;
    }

    @Override
    public void close() {
        pool.close();
    }
}
