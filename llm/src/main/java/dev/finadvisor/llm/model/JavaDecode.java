package dev.finadvisor.llm.model;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.EngineMemory;
import dev.finadvisor.llm.lowbit.PackedWeight;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * What the Java decoders ({@link LlamaDecoder}, {@link FalconDecoder}) share: one decode step (one new position for each
 * of a batch of sequences) reads every weight once for two FLOPs per weight and sequence, so its speed is memory
 * bandwidth, and the engine's GEMV reached a quarter of it on this CPU. These loops read the engine's weight and KV-cache
 * memory in place (no second copy of the weights) with the Vector API, split across a few threads; a batch's sequences
 * are multiplied by each weight row while it is in cache, so n sequences cost one read of the weights (continuous
 * batching). Each sequence has its own KV cache and position. Same math as the engine forward pass in the same fp32
 * order of operations except summation order (logits agree to ~1e-6), and a sequence's results do not depend on the
 * others in its batch; prefill and training stay on the engine.
 */
public final class JavaDecode implements AutoCloseable {
    /**
     * A weight {@code [rows, in]}: fp32 in engine memory, or packed (bf16, int8, NF4); its bias (null: none) and LoRA
     * updates applied unmerged beside the weight: {@code lora} for every sequence (null: none), or each sequence's
     * adapter's from {@code byAdapter} (null: no served adapters; see {@link AdapterLinear}).
     */
    record Projection(ByteBuffer weight, PackedWeight packed, float[] bias, int rows, int in, Lora lora, Lora[] byAdapter) {
        static Projection fp32(ByteBuffer weight, float[] bias, int rows, int in, Lora lora, Lora[] byAdapter) {
            return new Projection(weight, null, bias, rows, in, lora, byAdapter);
        }

        static Projection packed(PackedLinear linear, Lora lora, Lora[] byAdapter) {
            PackedWeight w = linear.weight();
            return new Projection(null, w, linear.biasValues(), w.rows(), w.cols(), lora, byAdapter);
        }

        /** The update a sequence generated with {@code adapter} gets (null: none). */
        Lora loraFor(int adapter) {
            if (lora != null) return lora;
            return byAdapter != null && adapter > 0 && adapter < byAdapter.length ? byAdapter[adapter] : null;
        }

        /** The length of an input as the rows read it (a packed weight pads and arranges it). */
        int preparedLength() {
            return packed != null ? packed.preparedLength() : in;
        }
    }

    /** LoRA factors A {@code [r, in]} and B {@code [rows, r]} in engine memory (live: training updates show). */
    record Lora(ByteBuffer a, ByteBuffer b, int r, float scale) {}

    private final ModelConfig config;
    private final Rotary rotary;
    private final TokenEmbedding embed;
    private final RowPool pool;
    final int hidden;
    final int heads;
    final int kvHeads;
    final int headDim;
    private final float scale;
    /** Per sequence of the batch: the current position's query, key and value heads, and the attention output: filled by the decoder, then by attend. */
    float[][] q = new float[0][];
    float[][] k = new float[0][];
    float[][] v = new float[0][];
    float[][] attended = new float[0][];
    private float[][] scores = new float[0][];
    /** Per sequence of the batch: its adapter (see {@link AdapterLinear}). */
    private int[] adapters = new int[0];
    /** Per projection of one {@link #project} call (up to three) and sequence: the input as its rows read it, LoRA's low-rank product. */
    private final float[][][] prepared = new float[3][0][];
    private final float[][][] low = new float[3][0][];

    JavaDecode(ModelConfig c, Rotary rotary, TokenEmbedding embed, int threads) {
        this.config = c;
        this.rotary = rotary;
        this.embed = embed;
        this.hidden = c.hiddenSize();
        this.heads = c.numHeads();
        this.kvHeads = c.numKvHeads();
        this.headDim = c.headDim();
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        pool = new RowPool(threads);
    }

    /** Whether a model loaded now decodes in Java: the Vector API is there and {@code -Dfinadvisor.decode=engine} is not set. */
    static boolean enabled() {
        return EngineMemory.VECTOR_API && !"engine".equals(System.getProperty("finadvisor.decode"));
    }

    /** What runs decode steps in this JVM, for {@code doctor}. */
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
        Lora[] byAdapter = null;
        if (linear instanceof AdapterLinear served) {
            byAdapter = new Lora[served.adapters() + 1];
            for (int i = 1; i < byAdapter.length; i++) {
                LowRankLinear u = served.update(i);
                if (u != null && (byAdapter[i] = lora(u)) == null) return null;
            }
            linear = served.base();
        }
        Lora lora = null;
        if (linear instanceof LowRankLinear lowRank) {
            if ((lora = lora(lowRank)) == null) return null;
            linear = lowRank.base();
        }
        if (linear instanceof PackedLinear packed) return Projection.packed(packed, lora, byAdapter);
        if (!(linear instanceof DenseLinear dense)) return null;
        ByteBuffer w = EngineMemory.floats(dense.weight());
        if (w == null) return null;
        float[] bias = dense.bias() == null ? null : dense.bias().toFloatArray();
        return Projection.fp32(w, bias, dense.outFeatures(), dense.inFeatures(), lora, byAdapter);
    }

    /** A LoRA update's factors in place, or null when they are not fp32 engine memory. */
    private static Lora lora(LowRankLinear lowRank) {
        ByteBuffer a = EngineMemory.floats(lowRank.a());
        ByteBuffer b = EngineMemory.floats(lowRank.b());
        if (a == null || b == null) return null;
        return new Lora(a, b, (int) lowRank.a().getShape().get(0), (float) lowRank.scale());
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

    /** Grows {@code rows} to at least {@code n} rows of {@code length} values (kept when large enough). */
    static float[][] room(float[][] rows, int n, int length) {
        if (rows.length < n) rows = Arrays.copyOf(rows, n);
        for (int b = 0; b < n; b++) if (rows[b] == null || rows[b].length < length) rows[b] = new float[length];
        return rows;
    }

    /**
     * Checks each sequence has room for one more position and returns its position; makes room for a batch of
     * {@code tokens.length}; writes each token's embedding into {@code x[b]}.
     */
    int[] begin(int[] tokens, KvCache[] caches, float[][] x) {
        int n = tokens.length;
        int[] pos = new int[n];
        for (int b = 0; b < n; b++) {
            pos[b] = caches[b].length();
            if (pos[b] + 1 > config.maxPositions()) {
                throw new UserError("sequence of " + (pos[b] + 1) + " tokens exceeds the model's context of " + config.maxPositions());
            }
            caches[b].checkRoom(1);
            embed.row(tokens[b], x[b]);
        }
        if (adapters.length < n) adapters = new int[n];
        for (int b = 0; b < n; b++) adapters[b] = caches[b].adapter();
        q = room(q, n, heads * headDim);
        k = room(k, n, kvHeads * headDim);
        v = room(v, n, kvHeads * headDim);
        attended = room(attended, n, heads * headDim);
        if (scores.length < n) scores = Arrays.copyOf(scores, n);
        for (int b = 0; b < n; b++) {
            if (scores[b] == null || scores[b].length < heads * caches[b].capacity()) scores[b] = new float[heads * caches[b].capacity()];
        }
        return pos;
    }

    /**
     * Up to three projections (null: absent) of the same inputs {@code in[0..n)}, in one parallel loop over their rows
     * together; each row is multiplied by all n inputs while it is in cache.
     */
    void project(float[][] in, int n, Projection p1, float[][] out1, Projection p2, float[][] out2, Projection p3, float[][] out3) {
        int r1 = p1.rows();
        int r2 = p2 == null ? 0 : p2.rows();
        int r3 = p3 == null ? 0 : p3.rows();
        prepare(0, p1, in, n);
        prepare(1, p2, in, n);
        prepare(2, p3, in, n);
        pool.run(r1 + r2 + r3, (from, to) -> {
            if (from < r1) rows(0, p1, in, n, out1, from, Math.min(to, r1));
            if (to > r1 && from < r1 + r2) rows(1, p2, in, n, out2, Math.max(from, r1) - r1, Math.min(to, r1 + r2) - r1);
            if (to > r1 + r2) rows(2, p3, in, n, out3, Math.max(from, r1 + r2) - r1 - r2, to - r1 - r2);
        });
    }

    void project(float[][] in, int n, Projection p, float[][] out) {
        project(in, n, p, out, null, null, null, null);
    }

    /**
     * What projection {@code slot}'s rows need of each input before they run: a packed weight's arrangement of it, and
     * LoRA's {@code (x A^T) * scale} (r values; the order of operations of LoraLinear).
     */
    private void prepare(int slot, Projection p, float[][] in, int n) {
        if (p == null) return;
        if (p.packed() != null) {
            prepared[slot] = room(prepared[slot], n, p.preparedLength());
            for (int b = 0; b < n; b++) p.packed().prepare(in[b], prepared[slot][b]);
        }
        if (p.lora() == null && p.byAdapter() == null) return;
        for (int b = 0; b < n; b++) {
            Lora l = p.loraFor(adapters[b]);
            if (l == null) continue;
            if (low[slot].length < n) low[slot] = Arrays.copyOf(low[slot], n);
            if (low[slot][b] == null || low[slot][b].length < l.r()) low[slot][b] = new float[l.r()];
            for (int j = 0; j < l.r(); j++) low[slot][b][j] = VectorKernels.dot(l.a(), (long) j * p.in(), in[b], p.in()) * l.scale();
        }
    }

    private void rows(int slot, Projection p, float[][] in, int n, float[][] out, int from, int to) {
        float[] sums = new float[(to - from) * n]; // row r's result for input b at (r - from) * n + b
        if (p.packed() != null) {
            p.packed().dots(from, to, prepared[slot], n, sums);
        } else {
            VectorKernels.dots(p.weight(), (long) from * p.in(), to - from, in, n, p.in(), sums);
        }
        for (int r = from; r < to; r++) {
            for (int b = 0; b < n; b++) {
                float y = sums[(r - from) * n + b];
                if (p.bias() != null) y += p.bias()[r];
                Lora l = p.loraFor(adapters[b]);
                if (l != null) y += VectorKernels.dot(l.b(), (long) r * l.r(), low[slot][b], l.r());
                out[b][r] = y;
            }
        }
    }

    /**
     * For each sequence b: rotates {@code q[b]} and {@code k[b]} to position {@code pos[b]}, stores k and v in layer
     * {@code layer} of its cache and writes the attention of every query head over its positions {@code 0..pos[b]} (a
     * windowed layer: its last window) into {@code attended[b]}.
     */
    void attend(int layer, KvCache[] caches, int[] pos, int n) {
        ByteBuffer[] keys = new ByteBuffer[n];
        ByteBuffer[] values = new ByteBuffer[n];
        for (int b = 0; b < n; b++) {
            rotary.rotate(q[b], heads, pos[b]);
            rotary.rotate(k[b], kvHeads, pos[b]);
            keys[b] = caches[b].buffer(layer, false);
            values[b] = caches[b].buffer(layer, true);
            int capacity = caches[b].capacity();
            for (int g = 0; g < kvHeads; g++) {
                int at = (g * capacity + pos[b]) * headDim;
                keys[b].asFloatBuffer().put(at, k[b], g * headDim, headDim);
                values[b].asFloatBuffer().put(at, v[b], g * headDim, headDim);
            }
        }
        boolean windowed = config.windowed(layer);
        pool.run(n * heads, (from, to) -> {
            for (int i = from; i < to; i++) {
                int b = i / heads;
                int first = windowed ? Math.max(0, pos[b] + 1 - config.slidingWindow()) : 0;
                attendHead(b, i % heads, keys[b], values[b], caches[b].capacity(), first, pos[b] + 1);
            }
        });
    }

    /** Attention of sequence b's query head h over its cached positions {@code [first, length)}. */
    private void attendHead(int b, int h, ByteBuffer keys, ByteBuffer values, int capacity, int first, int length) {
        int perKv = heads / kvHeads; // kv head g serves query heads g*perKv .. g*perKv+perKv-1
        long base = (long) (h / perKv) * capacity * headDim;
        float[] scores = this.scores[b];
        float[] q = this.q[b];
        float[] attended = this.attended[b];
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

    /** The output head's logits for each sequence's final normed hidden state. */
    float[][] logits(float[][] normed, int n, Projection head) {
        float[][] logits = new float[n][head.rows()];
        project(normed, n, head, logits);
        return logits;
    }

    @Override
    public void close() {
        pool.close();
    }
}
