package dev.finadvisor.llm.quant;

import dev.finadvisor.llm.model.CausalLM;
import dev.finadvisor.llm.model.DenseLinear;
import dev.finadvisor.llm.model.Linear;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns a loaded model into QLoRA's base: every dense linear except the output head becomes an
 * {@link Nf4Linear} (as bitsandbytes' 4-bit loading does, which keeps lm_head in full precision),
 * and the fp32 weight it replaced is freed.
 */
public final class Nf4Quantizer {
    private Nf4Quantizer() {}

    /** What quantisation did: how many layers and weights, and the bytes the NF4 weights hold. */
    public record Report(int layers, long parameters, long bytes) {
        public double bytesPerParameter() {
            return parameters == 0 ? 0 : (double) bytes / parameters;
        }
    }

    /** Quantises {@code model}'s linears in place with the code book held by {@code nf4}. */
    public static Report quantize(CausalLM model, Nf4 nf4) {
        int layers = 0;
        long parameters = 0;
        long bytes = 0;
        Map<String, Linear> linears = new LinkedHashMap<>(model.linears());
        for (Map.Entry<String, Linear> e : linears.entrySet()) {
            if (e.getKey().equals("lm_head") || !(e.getValue() instanceof DenseLinear dense)) continue;
            Nf4Linear q = new Nf4Linear(nf4.quantize(dense.weight()), dense.bias());
            model.replaceLinear(e.getKey(), q);
            layers++;
            parameters += dense.weight().getShape().size();
            bytes += q.weightBytes();
            if (!isTied(model, dense)) dense.weight().close(); // freeing the fp32 copy is what QLoRA saves
        }
        return new Report(layers, parameters, bytes);
    }

    /** A weight shared with a non-linear use (tied embeddings) must stay. */
    private static boolean isTied(CausalLM model, DenseLinear dense) {
        for (Map.Entry<String, ai.djl.ndarray.NDArray> p : model.parameters().entrySet()) {
            if (p.getValue() == dense.weight() && p.getKey().contains("embed")) return true;
        }
        return false;
    }
}
