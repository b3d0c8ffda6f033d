package dev.finadvisor.training.bench;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.llm.EngineCheck;
import dev.finadvisor.llm.LanguageModel;
import dev.finadvisor.llm.lora.LoraConfig;
import dev.finadvisor.llm.lora.LoraLayers;
import dev.finadvisor.llm.model.ProjectionLoader;
import dev.finadvisor.llm.model.TrainingPass;
import dev.finadvisor.llm.quant.LayerwiseBackward;
import dev.finadvisor.llm.quant.Nf4;
import dev.finadvisor.llm.quant.Nf4Quantizer;
import dev.finadvisor.training.sft.Checkpoints;
import dev.finadvisor.training.sft.Example;
import dev.finadvisor.training.sft.SftConfig;
import dev.finadvisor.training.sft.SftTrainer;
import dev.finadvisor.training.tracking.RunSpec;
import dev.finadvisor.training.tracking.RunTracker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Benchmark of one LoRA training step through the real trainer (bench/train-lora runs it): a
 * checkpoint, batch 1 (BENCH_BATCH) x seq 256, LoRA r=16 on every linear, AdamW, clipping. Prints one JSON object:
 * step times for LoRA and QLoRA, tokens/s, achieved GFLOP/s counting 4 N tokens (forward 2N, backward
 * to activations 2N: the frozen base gets no weight gradient), and the engine's fp32 matmul rate (at the start,
 * and per phase the mean of the rates measured just before and just after it); last, the step's matrix products
 * alone ({@link StepProducts}): the share of that rate this engine leaves a step on this machine.
 */
public final class TrainLoraBench {
    private static final List<String> ALL_LINEARS = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    private TrainLoraBench() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: TrainLoraBench CHECKPOINT_DIR [STEPS=8] [SEQ=256] [RANK=16]");
            System.exit(2);
        }
        Path checkpoint = Path.of(args[0]);
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int seq = args.length > 2 ? Integer.parseInt(args[2]) : 256;
        int rank = args.length > 3 ? Integer.parseInt(args[3]) : 16;
        int batch = Integer.parseInt(System.getenv().getOrDefault("BENCH_BATCH", "1")); // sequences per step
        if (batch < 1) throw new IllegalArgumentException("BENCH_BATCH must be at least 1, got " + batch);
        int warmup = 5; // the first steps run while the JIT compiles, its threads taking cores from the engine's
        Map<String, Object> out = new LinkedHashMap<>();
        EngineCheck engine = EngineCheck.run(2048);
        out.put("matmul_gflops", engine.matmulGflops());
        out.put("threads", engine.threads());
        out.put("batch", batch);
        // nf4: QLoRA as `train` runs it (LayerwiseBackward); nf4-whole (BENCH_QLORA_WHOLE=1): one backward through
        // the whole graph, autograd keeping every layer's dequantised weight until backward
        // LoRA runs again last (A-B-A): the load of this shared machine drifts within a run, and the QLoRA/LoRA ratio
        // is taken against the mean of the LoRA runs before and after
        List<String> variants = new ArrayList<>("1".equals(System.getenv("BENCH_QLORA_WHOLE"))
                ? List.of("none", "nf4", "nf4-whole", "none-after") : List.of("none", "nf4", "none-after"));
        // BENCH_ANSWER_ROWS=1: also LoRA with the loss on the second half of each sequence (answer tokens after a
        // prompt), the output head at those rows only (as `train` runs it) against at every row (as before)
        if ("1".equals(System.getenv("BENCH_ANSWER_ROWS"))) variants.addAll(List.of("half-all-rows", "half-answer-rows"));
        // BENCH_DROPOUT=P: also LoRA with dropout P on the LoRA inputs (as `train` runs it: 0.1 by default), masks
        // drawn in Java, then by libtorch (-Dfinadvisor.dropout=engine)
        double dropout = Double.parseDouble(System.getenv().getOrDefault("BENCH_DROPOUT", "0"));
        if (dropout > 0) variants.addAll(List.of("dropout", "dropout-engine"));
        // BENCH_LORA_COST=1: also LoRA on q_proj only, the same backward through every layer: the difference to the
        // LoRA phases is what the other LoRA layers cost a step
        if ("1".equals(System.getenv("BENCH_LORA_COST"))) variants.add("q-only");
        for (String variant : variants) {
            // the matmul rate again around each phase: this shared machine's speed drifts within a run. QLoRA quantises
            // each projection as it is read, as `train` does
            double matmulBefore = EngineCheck.run(2048).matmulGflops();
            try (NDManager manager = NDManager.newBaseManager(); Nf4 nf4 = new Nf4(manager);
                 LanguageModel model = LanguageModel.load(checkpoint, variant.startsWith("nf4") ? Nf4Quantizer.whileLoading(nf4) : ProjectionLoader.DENSE)) {
                Nf4Quantizer.Report report = variant.startsWith("nf4") ? Nf4Quantizer.Report.of(model.model()) : null;
                long parameters = parameters(model) + (report == null ? 0 : report.parameters());
                if (variant.equals("dropout-engine")) System.setProperty("finadvisor.dropout", "engine");
                else System.clearProperty("finadvisor.dropout");
                LoraConfig config = new LoraConfig(rank, 2.0 * rank, variant.startsWith("dropout") ? dropout : 0.0,
                        variant.equals("q-only") ? List.of("q_proj") : ALL_LINEARS, checkpoint.toString(), null);
                LoraLayers lora = LoraLayers.attach(config, model.model(), 1);
                LayerwiseBackward layerwise = variant.equals("nf4") ? new LayerwiseBackward(model.model(), manager) : null;
                TrainingPass pass = layerwise != null ? layerwise
                        : variant.equals("half-all-rows") ? TrainingPass.whole(model.model()::forward) // the head at every row, then the answer rows picked
                        : TrainingPass.whole(model.model());
                int answerFrom = variant.startsWith("half") ? seq / 2 + 1 : 1;
                Random random = new Random(7);
                List<Example> examples = new ArrayList<>();
                for (int i = 0; i < Math.max(4, batch); i++) {
                    int[] tokens = new int[seq + 1];
                    for (int t = 0; t < tokens.length; t++) tokens[t] = 3 + random.nextInt(model.config().vocabSize() - 3);
                    examples.add(new Example(tokens, answerFrom, tokens.length, false)); // from 1: loss on every position
                }
                Path scratch = Files.createTempDirectory("train-lora-bench");
                SftConfig.Training t = new SftConfig.Training(batch, 1, 1e-4, 0.0, 0.9, 0.999, 1e-8, "constant", 0, 0, 0.3,
                        1, warmup + steps, 1, Integer.MAX_VALUE, Integer.MAX_VALUE, 1, false, 42, false);
                List<String> lines;
                resetPeakRss(); // from here: the training steps (loading is not counted)
                try (RunTracker run = RunTracker.start(new RunSpec(scratch, "bench", null, null, null, "PyTorch", "cpu()").withoutReport())) {
                    new SftTrainer(pass, lora, examples, List.of(), new SftTrainer.Settings(t, 0),
                            new Checkpoints(run.checkpointsDir()), run, manager).run(null);
                    run.finish(Map.of());
                    lines = Files.readAllLines(run.layout().metrics());
                }
                double[] seconds = new double[steps];
                ObjectMapper json = new ObjectMapper();
                for (int i = 0; i < steps; i++) {
                    JsonNode m = json.readTree(lines.get(warmup + i));
                    seconds[i] = batch * (seq + 1) / m.get("tokens_per_s").asDouble(); // the trainer counts seq+1 tokens per example
                }
                Arrays.sort(seconds);
                double median = seconds[steps / 2];
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("parameters", parameters);
                r.put("trainable", lora.trainableParameters());
                r.put("step_s_median", median);
                r.put("step_s_min", seconds[0]);
                r.put("tokens_per_s", (double) batch * seq / median);
                r.put("gflops", 4.0 * parameters * batch * seq / median / 1e9);
                if (report != null) {
                    r.put("nf4_layers", report.layers());
                    r.put("nf4_bytes_per_param", report.bytesPerParameter());
                    // fp32 copies of NF4 weights alive at a step's peak (between forward and backward)
                    r.put("dequantised_peak_bytes", layerwise != null ? layerwise.bufferBytes() : 4 * report.parameters());
                }
                r.put("rss_peak_mb", peakRssMb());
                r.put("dropout", config.dropout());
                r.put("matmul_gflops", (matmulBefore + EngineCheck.run(2048).matmulGflops()) / 2);
                out.put(switch (variant) {
                    case "none" -> "lora";
                    case "none-after" -> "lora_after";
                    case "nf4" -> "qlora";
                    case "half-all-rows" -> "lora_half_answer_all_rows";
                    case "half-answer-rows" -> "lora_half_answer_rows";
                    case "dropout" -> "lora_dropout";
                    case "dropout-engine" -> "lora_dropout_engine";
                    case "q-only" -> "lora_q_proj_only";
                    default -> "qlora_whole";
                }, r);
                Checkpoints.deleteTreeQuietly(scratch);
            }
        }
        // the step's matrix products alone (StepProducts): the share of the matmul rate a step could reach here if
        // every elementwise op, the optimizer and autograd cost nothing; then without LoRA's products too
        double matmulBefore = EngineCheck.run(2048).matmulGflops();
        try (LanguageModel model = LanguageModel.load(checkpoint); NDManager manager = NDManager.newBaseManager()) {
            LoraLayers.attach(new LoraConfig(rank, 2.0 * rank, 0.0, ALL_LINEARS, checkpoint.toString(), null), model.model(), 1);
            for (boolean lora : new boolean[] {true, false}) {
                double median = StepProducts.medianSeconds(model.model(), batch, seq, steps, lora, manager);
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("step_s_median", median);
                r.put("gflops", 4.0 * parameters(model) * batch * seq / median / 1e9);
                double matmulAfter = EngineCheck.run(2048).matmulGflops();
                r.put("matmul_gflops", (matmulBefore + matmulAfter) / 2);
                matmulBefore = matmulAfter;
                out.put(lora ? "products_only" : "base_products_only", r);
            }
        }
        System.out.println(new ObjectMapper().writeValueAsString(out));
    }

    private static long parameters(LanguageModel model) {
        long parameters = 0;
        for (var p : model.model().parameters().values()) parameters += p.getShape().size();
        return parameters;
    }

    /** Resets the kernel's resident-set high-water mark (Linux: "5" > /proc/self/clear_refs); best effort. */
    static void resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | RuntimeException e) {
            // not Linux or not permitted: the figure then covers the whole process so far
        }
    }

    /** VmHWM of /proc/self/status in MiB, or -1 where there is none. */
    static long peakRssMb() {
        return statusMb("VmHWM");
    }

    /** A memory figure of /proc/self/status ({@code VmRSS}, {@code VmHWM}, ...) in MiB, or -1 where there is none. */
    static long statusMb(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
