package dev.finadvisor.training.bench;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.llm.LanguageModel;
import dev.finadvisor.llm.model.ProjectionLoader;
import dev.finadvisor.llm.quant.Nf4;
import dev.finadvisor.llm.quant.Nf4Quantizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The resident memory of loading a checkpoint, in a fresh JVM (bench/train-lora runs it once per mode): {@code fp32}
 * as LoRA loads it, or {@code nf4} as QLoRA's `train` does, each projection quantised as it is read. Prints one JSON
 * object: the RSS before loading (JVM and engine), the peak while loading, and the RSS after.
 */
public final class LoadRss {
    private LoadRss() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 2 || !args[1].matches("fp32|nf4")) {
            System.err.println("usage: LoadRss CHECKPOINT_DIR fp32|nf4");
            System.exit(2);
        }
        boolean nf4Mode = args[1].equals("nf4");
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("mode", args[1]);
        try (NDManager manager = NDManager.newBaseManager(); Nf4 nf4 = new Nf4(manager)) {
            out.put("rss_before_mb", TrainLoraBench.statusMb("VmRSS"));
            TrainLoraBench.resetPeakRss();
            try (LanguageModel model = LanguageModel.load(Path.of(args[0]), nf4Mode ? Nf4Quantizer.whileLoading(nf4) : ProjectionLoader.DENSE)) {
                out.put("rss_peak_mb", TrainLoraBench.peakRssMb());
                out.put("rss_after_mb", TrainLoraBench.statusMb("VmRSS"));
                if (nf4Mode) out.put("nf4_parameters", Nf4Quantizer.Report.of(model.model()).parameters());
            }
        }
        System.out.println(new ObjectMapper().writeValueAsString(out));
    }
}
