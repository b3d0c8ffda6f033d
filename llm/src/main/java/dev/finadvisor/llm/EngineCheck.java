package dev.finadvisor.llm;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** Loads the tensor engine (PyTorch through DJL) and measures its fp32 matrix-multiply rate. */
public record EngineCheck(String engine, String version, String device, int threads, double matmulGflops) {
    public static EngineCheck run(int n) {
        Engine engine = Engine.getEngine("PyTorch");
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.randomNormal(new Shape(n, n));
            NDArray b = m.randomNormal(new Shape(n, n));
            a.matMul(b).close(); // warm-up
            int reps = 5;
            long best = Long.MAX_VALUE;
            for (int i = 0; i < reps; i++) {
                long t0 = System.nanoTime();
                NDArray c = a.matMul(b);
                c.getFloat(0, 0); // CPU ops are synchronous; copying the whole result out would be timed too
                best = Math.min(best, System.nanoTime() - t0);
                c.close();
            }
            double flops = 2.0 * n * n * n;
            return new EngineCheck(engine.getEngineName(), engine.getVersion(), m.getDevice().toString(),
                    Runtime.getRuntime().availableProcessors(), flops / best);
        }
    }
}
