package dev.finadvisor.llm.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.util.JsonErrors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A checkpoint's {@code tokenizer.json} through Hugging Face's Rust tokenizers (via DJL), with
 * truncation and padding off (DJL would otherwise cut at 512 tokens), and the special tokens the
 * checkpoint's config files name.
 */
public final class Tokenizer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HuggingFaceTokenizer hf;
    private final Map<String, Integer> tokenIds;
    private final int vocabSize;
    private final SpecialTokens special;

    private Tokenizer(HuggingFaceTokenizer hf, Map<String, Integer> tokenIds, int vocabSize, SpecialTokens special) {
        this.hf = hf;
        this.tokenIds = tokenIds;
        this.vocabSize = vocabSize;
        this.special = special;
    }

    public static Tokenizer load(Path checkpointDir) {
        Path file = checkpointDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            throw new UserError(checkpointDir + ": no tokenizer.json (only fast-tokenizer checkpoints are supported; "
                    + "convert with transformers: AutoTokenizer.from_pretrained(dir).save_pretrained(dir))");
        }
        Map<String, Integer> ids = new HashMap<>();
        int maxId = -1;
        try {
            JsonNode root = JSON.readTree(file.toFile());
            JsonNode vocab = root.path("model").path("vocab");
            if (vocab.isObject()) {
                for (var it = vocab.fields(); it.hasNext(); ) {
                    var e = it.next();
                    ids.put(e.getKey(), e.getValue().asInt());
                }
            } else if (vocab.isArray()) { // Unigram: [[piece, score], ...]
                for (int i = 0; i < vocab.size(); i++) ids.put(vocab.get(i).get(0).asText(), i);
            }
            for (JsonNode t : root.path("added_tokens")) ids.put(t.path("content").asText(), t.path("id").asInt());
            for (int id : ids.values()) maxId = Math.max(maxId, id);
        } catch (IOException e) {
            throw new UserError(file + ": not valid JSON: " + JsonErrors.describe(e), e);
        }
        HuggingFaceTokenizer hf;
        try {
            hf = HuggingFaceTokenizer.newInstance(file, Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "true"));
        } catch (IOException | RuntimeException e) {
            throw new UserError(file + ": cannot load the tokenizer: " + e.getMessage(), e);
        }
        SpecialTokens special = resolveSpecial(checkpointDir, ids);
        return new Tokenizer(hf, ids, maxId + 1, special);
    }

    /** generation_config.json, then config.json, then tokenizer_config.json's token strings; eos ids from all are stop tokens. */
    private static SpecialTokens resolveSpecial(Path dir, Map<String, Integer> ids) {
        JsonNode gen = readOptional(dir.resolve("generation_config.json"));
        JsonNode cfg = readOptional(dir.resolve("config.json"));
        JsonNode tok = readOptional(dir.resolve("tokenizer_config.json"));
        int bos = firstId(List.of(gen.path("bos_token_id"), cfg.path("bos_token_id")), tokenId(tok.path("bos_token"), ids));
        int pad = firstId(List.of(gen.path("pad_token_id"), cfg.path("pad_token_id")), tokenId(tok.path("pad_token"), ids));
        Set<Integer> eos = new LinkedHashSet<>();
        JsonNode genEos = gen.path("eos_token_id");
        addIds(eos, genEos.isMissingNode() || genEos.isNull() ? cfg.path("eos_token_id") : genEos);
        int tokEos = tokenId(tok.path("eos_token"), ids);
        if (tokEos >= 0) eos.add(tokEos);
        return new SpecialTokens(bos, new ArrayList<>(eos), pad);
    }

    private static JsonNode readOptional(Path p) {
        if (!Files.isRegularFile(p)) return JSON.createObjectNode();
        try {
            return JSON.readTree(p.toFile());
        } catch (IOException e) {
            throw new UserError(p + ": not valid JSON: " + JsonErrors.describe(e), e);
        }
    }

    private static int firstId(List<JsonNode> candidates, int fallback) {
        for (JsonNode n : candidates) {
            if (n.isIntegralNumber()) return n.asInt();
            if (n.isArray() && n.size() > 0 && n.get(0).isIntegralNumber()) return n.get(0).asInt();
        }
        return fallback;
    }

    private static void addIds(Set<Integer> out, JsonNode n) {
        if (n.isIntegralNumber()) out.add(n.asInt());
        if (n.isArray()) n.forEach(e -> { if (e.isIntegralNumber()) out.add(e.asInt()); });
    }

    /** tokenizer_config.json spells a token as a string or as {"content": ...}. */
    private static int tokenId(JsonNode n, Map<String, Integer> ids) {
        String s = n.isTextual() ? n.asText() : n.path("content").isTextual() ? n.path("content").asText() : null;
        if (s == null) return -1;
        return ids.getOrDefault(s, -1);
    }

    /** Token ids of {@code text}; with {@code addSpecialTokens} the tokenizer's own template applies (e.g. Llama's BOS). Never truncates. */
    public int[] encode(String text, boolean addSpecialTokens) {
        Encoding e = hf.encode(text, addSpecialTokens, false);
        long[] ids = e.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = (int) ids[i];
        return out;
    }

    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return hf.decode(l, skipSpecialTokens);
    }

    /** The id of a token spelled exactly {@code token}, or -1. */
    public int tokenId(String token) {
        return tokenIds.getOrDefault(token, -1);
    }

    /** One more than the largest id the tokenizer knows. */
    public int vocabSize() {
        return vocabSize;
    }

    public SpecialTokens specialTokens() {
        return special;
    }

    public int bosId() {
        return special.bos();
    }

    public List<Integer> eosIds() {
        return special.eos();
    }

    public int padId() {
        return special.pad();
    }

    /** A decoder for one generated sequence that emits text only at character boundaries. */
    public StreamingDecoder streamingDecoder() {
        return new StreamingDecoder(this);
    }

    @Override
    public void close() {
        hf.close();
    }
}
