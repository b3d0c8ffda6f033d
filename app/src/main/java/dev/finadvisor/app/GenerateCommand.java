package dev.finadvisor.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.runs.Registry;
import dev.finadvisor.llm.GenerationConfig;
import dev.finadvisor.llm.GenerationResult;
import dev.finadvisor.llm.LanguageModel;
import dev.finadvisor.llm.TokenListener;
import dev.finadvisor.llm.hub.ModelLocator;
import dev.finadvisor.llm.lora.LoraLayers;
import dev.finadvisor.llm.lora.PeftAdapter;
import dev.finadvisor.llm.lowbit.WeightFormat;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Generates text from a checkpoint: streams it to stdout, or prints one JSON object with --json. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text with a Hugging Face checkpoint (Llama, Mistral, Qwen2, Falcon) on the CPU.")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "PATH_OR_ID",
            description = "A checkpoint folder, or a hub id org/name[@revision] downloaded once into the cache (HF_HOME or ~/.cache/huggingface; HF_TOKEN for gated models; HF_HUB_OFFLINE=1 uses the cache only).")
    String model;

    static final class Prompt {
        @Option(names = "--prompt", paramLabel = "TEXT", description = "Prompt text, tokenized as the model's tokenizer does (a Llama tokenizer adds BOS).")
        String text;

        @Option(names = "--prompt-ids", paramLabel = "1,2,3", split = ",", description = "Prompt token ids, fed exactly as given (no BOS added).")
        List<String> ids;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Prompt prompt;

    @Option(names = "--adapter", paramLabel = "DIR|registry:NAME@ALIAS|registry:NAME:VERSION",
            description = "A LoRA adapter folder in PEFT format (adapter_config.json, adapter_model.safetensors), e.g. RUN_DIR/adapter, or a registered version: registry:NAME@ALIAS or registry:NAME:VERSION (looked up in --registry); applied to the model.")
    String adapter;

    @Mixin
    RegistryCommand.RegistryDir registry;

    @Option(names = "--weights", paramLabel = "FORMAT", defaultValue = "auto",
            description = "How the model's weights are held: fp32, bf16, int8 (a scale per 64 weights), nf4 (QLoRA's 4-bit, a scale per 64) or auto, the checkpoint's own precision (default: ${DEFAULT-VALUE}: bf16 stays bf16, fp32 and fp16 load as fp32).")
    String weights;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "128", description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0", description = "0 picks the most likely token (greedy, default); higher samples more freely.")
    double temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "Sample only among the K most likely tokens (0: off, default).")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1", description = "Sample only among the most likely tokens holding P of the probability (1: off, default).")
    double topP;

    @Option(names = "--repetition-penalty", paramLabel = "R", defaultValue = "1", description = "Divide the scores of tokens already seen by R (1: off, default; 1.1-1.3 is usual).")
    double repetitionPenalty;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop when the output contains TEXT, which is cut off (repeatable).")
    List<String> stop = new ArrayList<>();

    @Option(names = "--seed", paramLabel = "S", description = "Seed for sampling (default: a random seed, printed with --json).")
    Long seed;

    @Option(names = "--json", description = "Print one JSON object (prompt_ids, generated_ids, text, finish_reason, prefill_ms, decode_tokens_per_s) instead of streaming text.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long usedSeed = seed != null ? seed : new SecureRandom().nextLong();
        GenerationConfig config = new GenerationConfig(maxNewTokens, temperature, topK, topP, repetitionPenalty, usedSeed, stop);
        WeightFormat format = WeightFormat.parse(weights, "--weights");
        Path dir = ModelLocator.fromEnvironment().resolve(model);
        // a bad adapter or registry reference fails before the model loads
        PeftAdapter peft = adapter == null ? null : PeftAdapter.read(Registry.adapterFolder(adapter, registry.dir));
        try (LanguageModel lm = LanguageModel.load(dir, format)) {
            if (peft != null) LoraLayers.apply(peft, lm.model());
            int[] ids = prompt.text != null ? lm.tokenizer().encode(prompt.text, true) : parseIds(prompt.ids);
            TokenListener listener = json ? TokenListener.NONE : (id, delta) -> {
                out.print(delta);
                out.flush();
            };
            GenerationResult r = lm.generate(ids, config, listener, () -> false);
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("prompt_ids", r.promptIds());
                o.put("generated_ids", r.generatedIds());
                o.put("text", r.text());
                o.put("finish_reason", r.finishReason());
                o.put("prefill_ms", r.prefillMs());
                o.put("decode_tokens_per_s", Math.round(r.decodeTokensPerSecond() * 100) / 100.0);
                o.put("seed", usedSeed);
                out.println(new ObjectMapper().writeValueAsString(o));
            } else {
                out.println();
                err.printf(Locale.ROOT, "[%s after %d tokens; prompt %d tokens, prefill %d ms, decode %.1f tokens/s]%n",
                        r.finishReason(), r.generatedIds().length, ids.length, r.prefillMs(), r.decodeTokensPerSecond());
            }
        }
        return 0;
    }

    private static int[] parseIds(List<String> parts) {
        int[] ids = new int[parts.size()];
        for (int i = 0; i < ids.length; i++) {
            String p = parts.get(i).strip();
            try {
                ids[i] = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new UserError("--prompt-ids: item " + (i + 1) + " is '" + p + "', not a token id (give comma-separated integers, e.g. 1,2,3)");
            }
        }
        return ids;
    }
}
