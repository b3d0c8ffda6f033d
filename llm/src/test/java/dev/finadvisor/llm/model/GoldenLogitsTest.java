package dev.finadvisor.llm.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.llm.GenerationConfig;
import dev.finadvisor.llm.GenerationResult;
import dev.finadvisor.llm.LanguageModel;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.TokenListener;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Logits and greedy continuations of every supported family against an independent PyTorch reference
 * (src/test/python/reference.py, fixtures in src/test/resources/golden, regenerate with make_golden.sh).
 */
class GoldenLogitsTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama3", "mistral", "qwen2", "falcon", "falcon-new", "falcon-seq"})
    void logitsAndGreedyTokensMatchTheReference(String family) throws Exception {
        JsonNode golden = golden(family);
        Path ckpt = RandomCheckpoint.tiny(family).write(dir.resolve(family));
        assertThat(sha256(ckpt.resolve("model.safetensors")))
                .as("RandomCheckpoint no longer writes the checkpoint the fixture was made from; rerun make_golden.sh")
                .isEqualTo(golden.get("checkpoint_sha256").asText());
        int[] ids = ints(golden.get("input_ids"));
        int vocab = golden.get("vocab_size").asInt();
        float[] expected = floats(golden.get("logits_f32_base64").asText());

        try (LanguageModel lm = LanguageModel.load(ckpt); NDManager scope = NDManager.newBaseManager()) {
            NDArray logits = lm.model().forward(scope.create(longs(ids), new Shape(1, ids.length)));
            assertThat(logits.getShape().getShape()).containsExactly(1, ids.length, vocab);
            float[] actual = logits.toFloatArray();
            assertThat(maxAbsDiff(actual, expected)).as("max |logit - reference| for %s", family).isLessThan(1e-4f);

            GenerationResult r = lm.generate(ids, GenerationConfig.greedy(golden.get("greedy").size()), TokenListener.NONE, () -> false);
            int[] greedy = ints(golden.get("greedy"));
            // the reference does not stop at EOS; compare up to where we stopped
            assertThat(r.generatedIds()).containsExactly(java.util.Arrays.copyOf(greedy, r.generatedIds().length));
            if (!r.finishReason().equals("eos")) assertThat(r.generatedIds()).containsExactly(greedy);
        }
    }

    static float maxAbsDiff(float[] a, float[] b) {
        assertThat(a).hasSameSizeAs(b);
        float max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }

    static JsonNode golden(String family) throws IOException {
        try (InputStream in = GoldenLogitsTest.class.getResourceAsStream("/golden/" + family + ".json")) {
            assertThat(in).as("fixture golden/%s.json", family).isNotNull();
            return new ObjectMapper().readTree(in);
        }
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }

    static long[] longs(int[] ids) {
        long[] out = new long[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = ids[i];
        return out;
    }

    static float[] floats(String base64) {
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(base64)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    static String sha256(Path p) throws IOException, NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }
}
