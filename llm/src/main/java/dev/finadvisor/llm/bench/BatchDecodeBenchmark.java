package dev.finadvisor.llm.bench;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.finadvisor.llm.lowbit.WeightFormat;
import dev.finadvisor.llm.model.CausalLM;
import dev.finadvisor.llm.model.KvCache;
import dev.finadvisor.llm.model.ProjectionLoader;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Decode steps of a batch of sequences ({@link CausalLM#decode(int[], KvCache[])}: what continuous batching runs), for
 * batch sizes 1 to 16, each sequence with CONTEXT cached positions: ms per step, tokens/s, and the ratio to batch 1
 * measured in the same process. Usage: BatchDecodeBenchmark CHECKPOINT_DIR [FORMAT=auto] [CONTEXT=400] [STEPS=20]
 */
public final class BatchDecodeBenchmark {
    private BatchDecodeBenchmark() {}

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        WeightFormat format = WeightFormat.parse(args.length > 1 ? args[1] : "auto", "FORMAT");
        int context = args.length > 2 ? Integer.parseInt(args[2]) : 400;
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 20;
        try (NDManager root = NDManager.newBaseManager(); CausalLM model = CausalLM.load(dir, root, ProjectionLoader.DENSE, format)) {
            double single = 0;
            measure(model, root, 4, context, 3 * steps); // warm-up: the JIT compiles the single and the blocked kernels
            System.out.println("| batch | ms per step | tokens/s | tokens/s against batch 1 |");
            System.out.println("| --- | --- | --- | --- |");
            for (int n : new int[] {1, 2, 4, 8, 16}) {
                double ms = measure(model, root, n, context, steps);
                double rate = n * 1000 / ms;
                if (n == 1) single = rate;
                System.out.printf(Locale.ROOT, "| %d | %.1f | %.1f | %.2fx |%n", n, ms, rate, rate / single);
            }
        }
    }

    /** Milliseconds per decode step of {@code n} sequences with {@code context} cached positions each. */
    private static double measure(CausalLM model, NDManager root, int n, int context, int steps) {
        KvCache[] caches = new KvCache[n];
        int[] tokens = new int[n];
        try {
            for (int b = 0; b < n; b++) {
                caches[b] = model.newCache(1, context + steps + 2);
                long[] ids = new long[context];
                for (int i = 0; i < context; i++) ids[i] = (i * 31L + b) % model.config().vocabSize();
                try (NDManager scope = root.newSubManager()) {
                    model.forward(scope.create(ids, new Shape(1, context)), caches[b], true);
                }
                tokens[b] = 5 + b;
            }
            model.decode(tokens, caches);
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) model.decode(tokens, caches);
            return (System.nanoTime() - t0) / 1e6 / steps;
        } finally {
            for (KvCache c : caches) if (c != null) c.close();
        }
    }
}
