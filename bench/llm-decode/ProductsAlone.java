// Run: java -cp "app/target/finadvisor.jar:app/target/lib/*" bench/llm-decode/ProductsAlone.java CHECKPOINT_DIR
// (with the flags run.sh gives DecodeBenchmark: OMP_NUM_THREADS, jemalloc, -Dai.djl.pytorch.num_threads).
import ai.djl.ndarray.*;
import ai.djl.ndarray.types.*;
import dev.finadvisor.llm.model.*;
import java.nio.file.Path;
import java.util.*;
/** Diagnostic: time of all of a checkpoint's linear products at batch 1, one by one, against one cached decode step. */
public class ProductsAlone {
    public static void main(String[] a) throws Exception {
        try (NDManager root = NDManager.newBaseManager(); CausalLM m = CausalLM.load(Path.of(a[0]), root)) {
            List<Linear> ls = new ArrayList<>(m.linears().values());
            for (int rep = 0; rep < 5; rep++) {
                long t0 = System.nanoTime();
                int n = 20;
                for (int i = 0; i < n; i++) {
                    try (NDManager s = root.newSubManager()) {
                        for (Linear l : ls) l.apply(s.ones(new Shape(1, 1, l.inFeatures()))).toFloatArray().clone();
                    }
                }
                double perTok = (System.nanoTime() - t0) / 1e6 / n;
                long t1 = System.nanoTime();
                try (KvCache c = m.newCache(1, 200)) {
                    try (NDManager s = root.newSubManager()) { m.forward(s.create(new long[128], new Shape(1,128)), c, true).toFloatArray(); }
                    t1 = System.nanoTime();
                    for (int i = 0; i < n; i++) try (NDManager s = root.newSubManager()) { m.forward(s.create(new long[]{5}, new Shape(1,1)), c, true).toFloatArray(); }
                }
                double step = (System.nanoTime() - t1) / 1e6 / n;
                System.out.printf("all %d products one by one (each synced): %.1f ms; one decode step: %.1f ms; load %s%n", ls.size(), perTok, step,
                        new String(java.nio.file.Files.readAllBytes(Path.of("/proc/loadavg"))).trim());
            }
        }
    }
}
