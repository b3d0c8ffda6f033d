import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.finadvisor.llm.LanguageModel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resident memory after each of N forward passes (batch 1 x SEQ tokens) of a checkpoint, every pass's
 * tensors closed with its manager: flat when the allocator reuses freed memory, rising by a pass's
 * activations when it does not. Prints one line per pass and a summary line.
 * usage: java ... ForwardRss.java CHECKPOINT [PASSES=8] [SEQ=256]
 */
public class ForwardRss {
    public static void main(String[] args) throws Exception {
        Path checkpoint = Path.of(args[0]);
        int passes = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int seq = args.length > 2 ? Integer.parseInt(args[2]) : 256;
        long[] ids = new long[seq];
        for (int i = 0; i < seq; i++) ids[i] = 3 + (i * 7919L) % 30000;
        long[] rss = new long[passes];
        try (LanguageModel model = LanguageModel.load(checkpoint); NDManager base = NDManager.newBaseManager()) {
            for (int p = 0; p < passes; p++) {
                try (NDManager step = base.newSubManager()) {
                    NDArray logits = model.model().forward(step.create(ids, new Shape(1, seq)), null, false);
                    logits.getFloat(0, 0, 0);
                }
                rss[p] = rssMb();
                System.out.printf("pass %d: RSS %d MB%n", p + 1, rss[p]);
            }
        }
        System.out.printf("MALLOC_CONF=%s: RSS %d MB after pass 2, %d MB after pass %d: %+.1f MB per pass%n",
                System.getenv().getOrDefault("MALLOC_CONF", "(unset)"), rss[1], rss[passes - 1], passes,
                (rss[passes - 1] - rss[1]) / (double) (passes - 2));
    }

    private static long rssMb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
        }
        return -1;
    }
}
