// Run: java -cp "app/target/finadvisor.jar:app/target/lib/*" bench/train-lora/Nf4Dequant.java [REPS=15]
// (LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 as run.sh gives TrainLoraBench; MALLOC_CONF to compare allocators).
import ai.djl.ndarray.*;
import ai.djl.ndarray.types.*;
import dev.finadvisor.llm.quant.*;
import java.nio.ByteBuffer;
import java.util.*;
/**
 * Diagnostic: where a QLoRA step's extra time goes, per layer of the train-lora model (768 x 768 and 3072 x 768):
 * dequantising one NF4 weight (the Java path and the former engine-op lookup), allocating and touching a fresh
 * fp32 tensor of that size (page faults), against the two matmuls a LoRA step does per layer at seq 256
 * (forward x W^T, backward dX = dY W). Medians of REPS.
 */
public class Nf4Dequant {
    interface Op { void run() throws Exception; }

    static double time(String name, int reps, Op op) throws Exception {
        for (int i = 0; i < 3; i++) op.run();
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) { long s = System.nanoTime(); op.run(); t[i] = (System.nanoTime() - s) / 1e6; }
        Arrays.sort(t);
        System.out.printf("%-52s median %8.2f ms  min %8.2f ms%n", name, t[reps / 2], t[0]);
        return t[reps / 2];
    }

    public static void main(String[] a) throws Exception {
        int reps = a.length > 0 ? Integer.parseInt(a[0]) : 15;
        System.out.println("load average " + new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/loadavg"))).trim());
        try (NDManager root = NDManager.newBaseManager(); Nf4 nf4 = new Nf4(root)) {
            Random r = new Random(1);
            for (int[] dims : new int[][] {{768, 768}, {3072, 768}}) {
                Shape shape = new Shape(dims[0], dims[1]);
                float[] w = new float[dims[0] * dims[1]];
                for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * 0.02);
                try (Nf4Tensor q = nf4.quantize(w, shape); NDManager m = root.newSubManager()) {
                    NDArray x = m.randomNormal(0, 1, new Shape(1, 256, dims[1]), DataType.FLOAT32);
                    NDArray dy = m.randomNormal(0, 1, new Shape(1, 256, dims[0]), DataType.FLOAT32);
                    NDArray dense = m.create(w, shape);
                    NDArray reused = m.create(shape, DataType.FLOAT32);
                    String s = dims[0] + "x" + dims[1] + " ";
                    time(s + "dequantise: engine-op lookup (before)", reps, () -> { try (NDManager k = m.newSubManager()) { q.dequantizeWithEngineOps(k); } });
                    time(s + "dequantise: Java, fresh tensor (now)", reps, () -> { try (NDManager k = m.newSubManager()) { q.dequantize(k); } });
                    time(s + "dequantise: Java, into a reused tensor", reps, () -> q.dequantizeInto(reused));
                    time(s + "allocate + touch a fresh fp32 tensor", reps, () -> { try (NDManager k = m.newSubManager()) {
                        ByteBuffer b = k.create(shape, DataType.FLOAT32).toByteBuffer(true);
                        for (int i = 0; i < b.capacity(); i += 4096) b.put(i, (byte) 1); } });
                    time(s + "LoRA step matmul: forward x W^T, seq 256", reps, () -> { try (NDManager k = m.newSubManager()) {
                        ai.djl.nn.core.Linear.linear(x, dense, null).singletonOrThrow().attach(k); } });
                    time(s + "LoRA step matmul: backward dX = dY W", reps, () -> { try (NDManager k = m.newSubManager()) { dy.matMul(dense).attach(k); } });
                }
            }
        }
        System.out.println("load average " + new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/loadavg"))).trim());
    }
}
