package dev.finadvisor.llm.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.llm.GenerationConfig;
import dev.finadvisor.llm.GenerationResult;
import dev.finadvisor.llm.LanguageModel;
import dev.finadvisor.llm.TokenListener;
import dev.finadvisor.llm.lowbit.WeightFormat;
import dev.finadvisor.llm.model.CausalLM;
import dev.finadvisor.llm.model.Linear;
import dev.finadvisor.llm.model.LowRankLinear;
import dev.finadvisor.llm.model.PackedLinear;
import dev.finadvisor.llm.safetensors.SafetensorsShards;
import dev.finadvisor.llm.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Batch-1 prefill and decode speed of a checkpoint through {@link LanguageModel#generate}, with its weights held as
 * FORMAT ({@link WeightFormat}, default fp32), the bytes of weights each decoded token reads, the machine's memory
 * read bandwidth measured in the same process, load time and peak RSS. Prints one JSON object; bench/llm-decode/run.sh
 * compares it with a PyTorch eager reference, bench/llm-lowbit/run.sh with llama.cpp.
 * Usage: DecodeBenchmark CHECKPOINT_DIR PROMPT_TOKENS NEW_TOKENS REPEATS [FORMAT]
 */
public final class DecodeBenchmark {
    private DecodeBenchmark() {}

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        int promptTokens = Integer.parseInt(args[1]);
        int newTokens = Integer.parseInt(args[2]);
        int repeats = Integer.parseInt(args[3]);
        WeightFormat format = args.length > 4 ? WeightFormat.parse(args[4], "FORMAT") : WeightFormat.FP32;
        Map<String, Object> out = new LinkedHashMap<>();
        long params = 0;
        try (SafetensorsShards w = SafetensorsShards.open(dir)) {
            for (String n : w.names()) {
                TensorInfo t = w.info(n);
                params += t.elementCount();
            }
        }
        out.put("params", params);
        out.put("rss_before_load_mb", rssMb("VmRSS"));
        long t0 = System.nanoTime();
        long weightBytes;
        try (LanguageModel lm = LanguageModel.load(dir, format)) {
            out.put("load_s", (System.nanoTime() - t0) / 1e9);
            weightBytes = bytesReadPerToken(lm.model());
            out.put("weights", format.id());
            out.put("rss_after_load_mb", rssMb("VmRSS"));
            double[] best = measure(lm, promptTokens, newTokens, repeats);
            out.put("prompt_tokens", promptTokens);
            out.put("new_tokens", (int) best[2]);
            out.put("prefill_tok_s", best[0]);
            out.put("decode_tok_s", best[1]);
            out.put("decode_weight_gb_s", best[1] * weightBytes / 1e9);
            out.put("weight_mb", weightBytes / 1e6);
            out.put("peak_rss_mb", rssMb("VmHWM")); // before the bandwidth test's own 1 GiB
        }
        if (format == WeightFormat.FP32) { // the same model decoded by engine ops, to show what the Java decoder buys
            System.setProperty("finadvisor.decode", "engine");
            try (LanguageModel lm = LanguageModel.load(dir)) {
                out.put("engine_decode_tok_s", measure(lm, promptTokens, newTokens, repeats)[1]);
            }
        }
        out.put("read_bandwidth_gb_s", readBandwidth());
        System.out.println(new ObjectMapper().writeValueAsString(out));
    }

    /** Bytes of weights one decode step reads: every projection (the output head included) once, in its format. */
    static long bytesReadPerToken(CausalLM model) {
        long bytes = 0;
        for (Linear linear : model.linears().values()) {
            if (linear instanceof LowRankLinear lora) linear = lora.base();
            if (linear instanceof PackedLinear packed) bytes += packed.weight().bytes();
            else bytes += 4L * linear.inFeatures() * linear.outFeatures();
        }
        return bytes;
    }

    /** Best prefill tokens/s, best decode tokens/s and the tokens generated, over {@code repeats} greedy runs after a warm-up. */
    static double[] measure(LanguageModel lm, int promptTokens, int newTokens, int repeats) {
        int vocab = lm.config().vocabSize();
        SplittableRandom rnd = new SplittableRandom(1);
        int[] prompt = new int[promptTokens];
        for (int i = 0; i < prompt.length; i++) prompt[i] = 3 + rnd.nextInt(vocab - 3);
        // warm-up: long enough for the JIT to compile the decode loops, as in a serving process
        lm.generate(prompt, GenerationConfig.greedy(32), TokenListener.NONE, () -> false);
        double bestPrefill = 0;
        double bestDecode = 0;
        int generated = 0;
        for (int r = 0; r < repeats; r++) {
            GenerationResult g = lm.generate(prompt, GenerationConfig.greedy(newTokens), TokenListener.NONE, () -> false);
            bestPrefill = Math.max(bestPrefill, promptTokens / Math.max(1e-3, g.prefillMs() / 1000.0));
            bestDecode = Math.max(bestDecode, g.decodeTokensPerSecond());
            generated = g.generatedIds().length;
        }
        return new double[] {bestPrefill, bestDecode, generated};
    }

    /** Best of 7 full reads (sum) of a 1 GiB fp32 tensor: what batch-1 decode, bound by reading weights, can reach. */
    static double readBandwidth() {
        try (NDManager m = NDManager.newBaseManager()) {
            long n = 1L << 28;
            NDArray a = m.ones(new Shape(n));
            double best = 0;
            for (int i = 0; i < 7; i++) {
                long t = System.nanoTime();
                try (NDArray s = a.sum()) {
                    s.getFloat();
                }
                best = Math.max(best, n * 4 / ((System.nanoTime() - t) / 1e9) / 1e9);
            }
            return best;
        }
    }

    static double rssMb(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
