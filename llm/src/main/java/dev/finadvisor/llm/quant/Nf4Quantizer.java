package dev.finadvisor.llm.quant;

import dev.finadvisor.llm.model.CausalLM;
import dev.finadvisor.llm.model.DenseLinear;
import dev.finadvisor.llm.model.Linear;
import dev.finadvisor.llm.model.LowRankLinear;
import dev.finadvisor.llm.model.ProjectionLoader;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Makes QLoRA's base: every dense linear except the output head becomes an {@link Nf4Linear} (as
 * bitsandbytes' 4-bit loading does, which keeps lm_head in full precision), and the fp32 weight it
 * replaced is freed: while the checkpoint is read ({@link #whileLoading}), or in a model already loaded.
 */
public final class Nf4Quantizer {
    private Nf4Quantizer() {}

    /** What a model holds in NF4: how many layers and weights, and the bytes the NF4 weights hold. */
    public record Report(int layers, long parameters, long bytes) {
        public double bytesPerParameter() {
            return parameters == 0 ? 0 : (double) bytes / parameters;
        }

        /** Counts {@code model}'s NF4 linears (under LoRA too). */
        public static Report of(CausalLM model) {
            int layers = 0;
            long parameters = 0;
            long bytes = 0;
            for (Linear linear : model.linears().values()) {
                if (linear instanceof LowRankLinear lora) linear = lora.base();
                if (!(linear instanceof Nf4Linear q)) continue;
                layers++;
                parameters += q.weight().shape().size();
                bytes += q.weightBytes();
            }
            return new Report(layers, parameters, bytes);
        }
    }

    /**
     * Quantises each decoder projection as the checkpoint is read (its fp32 weight is freed before the next is
     * read), so the fp32 model is never whole in memory: a 7B base then needs ~5 GB, not 28. Pass it to
     * {@code LanguageModel.load}.
     */
    public static ProjectionLoader whileLoading(Nf4 nf4) {
        return (path, loaded) -> new Nf4Linear(nf4.quantize(loaded.weight()), loaded.bias());
    }

    /** Quantises the linears of a model already loaded in fp32, in place, with the code book held by {@code nf4}. */
    public static Report quantize(CausalLM model, Nf4 nf4) {
        Map<String, Linear> linears = new LinkedHashMap<>(model.linears());
        for (Map.Entry<String, Linear> e : linears.entrySet()) {
            if (e.getKey().equals("lm_head") || !(e.getValue() instanceof DenseLinear dense)) continue;
            model.replaceLinear(e.getKey(), new Nf4Linear(nf4.quantize(dense.weight()), dense.bias()));
            if (!isTied(model, dense)) dense.weight().close(); // freeing the fp32 copy is what QLoRA saves
        }
        return Report.of(model);
    }

    /** A weight shared with a non-linear use (tied embeddings) must stay. */
    private static boolean isTied(CausalLM model, DenseLinear dense) {
        for (Map.Entry<String, ai.djl.ndarray.NDArray> p : model.parameters().entrySet()) {
            if (p.getValue() == dense.weight() && p.getKey().contains("embed")) return true;
        }
        return false;
    }
}
