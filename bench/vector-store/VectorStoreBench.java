// Vector-store benchmark: ingest rate, search latency and recall@5 of LuceneVectorStore against
// brute force over the same vectors, unfiltered and filtered. Run through ./bench/vector-store/run.
import dev.finadvisor.retrieval.ChunkPayload;
import dev.finadvisor.retrieval.ClusteredVectors;
import dev.finadvisor.retrieval.Hit;
import dev.finadvisor.retrieval.LuceneVectorStore;
import dev.finadvisor.retrieval.Point;
import dev.finadvisor.retrieval.SearchFilter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.IntPredicate;
import java.util.stream.Stream;

public class VectorStoreBench {
    static final int DIM = 384;
    static final int K = 5;
    static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");
    static final long SPAN_SECONDS = 365L * 24 * 3600; // points spread over a year of news
    static final int TICKERS = 50;
    static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        int queries = Integer.parseInt(args[1]);
        // BENCH_MERGE: true = forceMerge(1) after the first measurement, false = none, a number = merge to that many segments.
        int merge = switch (args[2]) { case "true" -> 1; case "false" -> 0; default -> Integer.parseInt(args[2]); };
        System.out.printf(Locale.ROOT, "machine: %d cores, load average at start %s, max heap %.1f GiB%n",
                Runtime.getRuntime().availableProcessors(), load(), Runtime.getRuntime().maxMemory() / 1073741824.0);
        for (int i = 3; i < args.length; i++) run(work, Integer.parseInt(args[i]), queries, merge);
        System.out.println("load average at end " + load());
    }

    static String load() throws Exception {
        return Files.readString(Path.of("/proc/loadavg")).strip();
    }

    static String loadQuietly() {
        try {
            return load();
        } catch (Exception e) {
            return "?";
        }
    }

    static long createdSeconds(long i, int n) {
        return i * SPAN_SECONDS / n;
    }

    static List<String> symbols(long i) {
        int a = (int) Math.floorMod(i * 7919, TICKERS);
        return i % 3 == 0 ? List.of("T" + a, "T" + (a + 1) % TICKERS) : List.of("T" + a);
    }

    static void run(Path work, int n, int queries, int mergeTo) throws Exception {
        // ~1000 points per topic, 16 in-topic directions: see ClusteredVectors.
        ClusteredVectors gen = new ClusteredVectors(DIM, Math.max(10, n / 1000), 16, 20251126L);
        LuceneVectorStore.HnswParameters d = LuceneVectorStore.HnswParameters.DEFAULT;
        String[] graph = System.getenv().getOrDefault("BENCH_HNSW", d.maxConn() + "," + d.beamWidth()).split(",");
        LuceneVectorStore.HnswParameters hnsw = new LuceneVectorStore.HnswParameters(
                Integer.parseInt(graph[0].strip()), Integer.parseInt(graph[1].strip()));
        int[] candidateCounts = Arrays.stream(System.getenv().getOrDefault("BENCH_CANDIDATES", "5,50,100").split(","))
                .mapToInt(c -> Integer.parseInt(c.strip())).toArray();
        boolean[] pruneModes = switch (System.getenv().getOrDefault("BENCH_PRUNE", String.valueOf(LuceneVectorStore.DEFAULT_PRUNE_ACROSS_SEGMENTS))) {
            case "true" -> new boolean[] {true};
            case "false" -> new boolean[] {false};
            case "both" -> new boolean[] {true, false};
            default -> throw new IllegalArgumentException("BENCH_PRUNE must be true, false or both");
        };
        int perMillion = Integer.parseInt(System.getenv().getOrDefault("BENCH_PER_MILLION",
                String.valueOf(LuceneVectorStore.DEFAULT_CANDIDATES_PER_MILLION)));
        // One directory per size and graph parameters; "complete" is written after the final commit, so
        // BENCH_REUSE=true only ever reuses an index whose ingest finished.
        Path dir = work.resolve("lucene-" + n + "-m" + hnsw.maxConn() + "-b" + hnsw.beamWidth());
        Path complete = dir.resolve("complete");
        boolean reuse = Boolean.parseBoolean(System.getenv().getOrDefault("BENCH_REUSE", "false")) && Files.exists(complete);
        float[] all = new float[n * DIM];
        System.out.printf(Locale.ROOT, "%n== %,d points, %d topics, %d-d; %d queries, k=%d; HNSW maxConn %d, beamWidth %d ==%n",
                n, gen.clusters(), DIM, queries, K, hnsw.maxConn(), hnsw.beamWidth());

        if (reuse) {
            // Vectors depend only on the seed and their number: regenerate them for brute force (in parallel).
            java.util.stream.IntStream.range(0, n).parallel().forEach(i -> System.arraycopy(gen.vector(i), 0, all, i * DIM, DIM));
            try (LuceneVectorStore store = LuceneVectorStore.openReadOnly(dir)) {
                if (store.count() != n) throw new IllegalStateException(dir + " holds " + store.count() + " points, not " + n);
                System.out.printf(Locale.ROOT, "ingest: skipped, reusing %s (%s; %d segments)%n", dir, Files.readString(complete).strip(), store.segments());
            }
        } else {
            deleteTree(dir);
            ingest(dir, hnsw, gen, n, all, complete);
        }

        float[][] qs = new float[queries][];
        for (int q = 0; q < queries; q++) qs[q] = gen.query(q);
        long weekAgo = SPAN_SECONDS - 7L * 24 * 3600;
        Instant since = T0.plusSeconds(weekAgo);
        record Case(String name, SearchFilter filter, IntPredicate keep) {}
        // BENCH_CASES: which cases to measure, by the first word of their name (unfiltered,last,symbols,7); default all.
        List<String> wanted = Arrays.stream(System.getenv().getOrDefault("BENCH_CASES", "").split(","))
                .map(String::strip).filter(w -> !w.isEmpty()).toList();
        Set<String> two = Set.of("T7", "T23");
        List<Case> cases = List.of(
                new Case("unfiltered", SearchFilter.NONE, i -> true),
                new Case("last 7 days (~2%)", new SearchFilter(since, null, Set.of()), i -> createdSeconds(i, n) >= weekAgo),
                new Case("symbols T7|T23 (~5%)", new SearchFilter(null, null, two),
                        i -> symbols(i).stream().anyMatch(two::contains)),
                new Case("7 days + symbols (~0.1%)", new SearchFilter(since, null, two),
                        i -> createdSeconds(i, n) >= weekAgo && symbols(i).stream().anyMatch(two::contains)))
                .stream().filter(c -> wanted.isEmpty() || wanted.contains(c.name().split(" ")[0])).toList();

        // Exact answers by brute force; its latency is the reference every HNSW figure is compared to.
        List<List<Set<Long>>> exact = new ArrayList<>();
        double[] bruteMs = new double[cases.size()];
        for (int c = 0; c < cases.size(); c++) {
            List<Set<Long>> answers = new ArrayList<>();
            IntPredicate keep = cases.get(c).keep();
            int[] ids = java.util.stream.IntStream.range(0, n).filter(keep).toArray();
            long b0 = System.nanoTime();
            for (float[] q : qs) answers.add(bruteTop(all, ids, q));
            bruteMs[c] = (System.nanoTime() - b0) / 1e6 / queries;
            exact.add(answers);
            if (c == 0) {
                System.out.printf(Locale.ROOT, "brute force (reference, %s): %.1f ms/query over %,d vectors = %.1f GB/s of vectors read%n",
                        cases.get(0).name(), bruteMs[0], ids.length, (double) ids.length * DIM * 4 / (bruteMs[0] / 1e3) / 1e9);
            }
        }

        try (LuceneVectorStore store = LuceneVectorStore.open(dir, DIM, hnsw)) {
            store.candidatesPerMillion(perMillion);
            for (boolean prune : pruneModes) {
                store.pruneAcrossSegments(prune);
                report(store, (reuse ? "reused index, " : "as ingested, ") + store.segments() + " segments, " + pruning(prune, perMillion), cases, qs, exact, bruteMs, candidateCounts);
            }
            if (mergeTo > 0) {
                long m0 = System.nanoTime();
                store.forceMerge(mergeTo);
                System.out.printf(Locale.ROOT, "forceMerge(%d): %.1f s (load average %s)%n", mergeTo, (System.nanoTime() - m0) / 1e9, load());
                for (boolean prune : pruneModes) {
                    store.pruneAcrossSegments(prune);
                    report(store, "merged, " + store.segments() + " segments, " + pruning(prune, perMillion), cases, qs, exact, bruteMs, candidateCounts);
                }
            }
        }
        System.out.printf(Locale.ROOT, "index size on disk: %.0f MB%n", size(dir) / 1e6);
    }

    static void ingest(Path dir, LuceneVectorStore.HnswParameters hnsw, ClusteredVectors gen, int n, float[] all, Path complete) throws Exception {
        long t0 = System.nanoTime();
        int threads = Integer.parseInt(System.getenv().getOrDefault("BENCH_THREADS", "2"));
        try (LuceneVectorStore store = LuceneVectorStore.open(dir, DIM, hnsw)) {
            // Like a sink with parallelism `threads`: each thread upserts its own share in batches of 1000.
            java.util.concurrent.atomic.AtomicLong done = new java.util.concurrent.atomic.AtomicLong();
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int shard = t;
                Thread worker = new Thread(() -> {
                    List<Point> batch = new ArrayList<>(1000);
                    for (int i = shard; i < n; i += threads) {
                        float[] v = gen.vector(i);
                        System.arraycopy(v, 0, all, i * DIM, DIM);
                        Instant created = T0.plusSeconds(createdSeconds(i, n));
                        ChunkPayload p = new ChunkPayload(i, 0, "chunk text of article " + i, "Headline " + i, "Summary",
                                "https://news.example/" + i, symbols(i), "bench", "bench", created, created);
                        batch.add(new Point(p.pointId(), v, p));
                        if (batch.size() == 1000) {
                            store.upsert(batch);
                            batch.clear();
                            long d = done.addAndGet(1000);
                            if (d % 100_000 == 0) {
                                System.out.printf(Locale.ROOT, "  ingested %,d in %.0f s%n", d, (System.nanoTime() - t0) / 1e9);
                            }
                        }
                    }
                    store.upsert(batch);
                });
                worker.setUncaughtExceptionHandler((th, e) -> {
                    e.printStackTrace();
                    System.exit(1);
                });
                worker.start();
                workers.add(worker);
            }
            for (Thread w : workers) w.join();
            store.commit();
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "ingest: %,d points in %.1f s = %,.0f points/s with %d threads (incl. generating vectors and the final commit); %d segments%n",
                    n, secs, n / secs, threads, store.segments());
            Files.writeString(complete, String.format(Locale.ROOT, "ingested at %,.0f points/s with %d threads, load average at end %s",
                    n / secs, threads, load()));
        }
    }


    static String pruning(boolean prune, int perMillion) {
        return prune ? "segments share a score queue (Lucene's default)"
                : "each segment's graph searched in full (the store's default), a segment of n points with at least "
                        + perMillion + " * n / 1M candidates";
    }

    static void report(LuceneVectorStore store, String title, List<?> casesRaw, float[][] qs, List<List<Set<Long>>> exact,
                       double[] bruteMs, int[] candidateCounts) {
        @SuppressWarnings("unchecked")
        List<Object> cases = (List<Object>) casesRaw;
        System.out.println("-- " + title + "; load average " + loadQuietly());
        System.out.println("  case                        candidates  recall@5   p50 ms   p99 ms  mean ms  cpu p50  cpu p99  speedup vs brute force (mean)");
        for (int c = 0; c < cases.size(); c++) {
            var cs = cases.get(c);
            String name;
            SearchFilter filter;
            try {
                name = (String) cs.getClass().getMethod("name").invoke(cs);
                filter = (SearchFilter) cs.getClass().getMethod("filter").invoke(cs);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
            for (int candidates : candidateCounts) {
                for (int w = 0; w < Math.min(50, qs.length); w++) store.search(qs[w], K, filter, candidates); // warm up
                double[] ms = new double[qs.length];
                double[] cpuMs = new double[qs.length]; // this thread's CPU time: what the search costs, less the waits for a core on a shared machine
                double hits = 0;
                double wanted = 0;
                for (int q = 0; q < qs.length; q++) {
                    long c0 = THREADS.getCurrentThreadCpuTime();
                    long s0 = System.nanoTime();
                    List<Hit> result = store.search(qs[q], K, filter, candidates);
                    ms[q] = (System.nanoTime() - s0) / 1e6;
                    cpuMs[q] = (THREADS.getCurrentThreadCpuTime() - c0) / 1e6;
                    Set<Long> truth = exact.get(c).get(q);
                    for (Hit h : result) if (truth.contains(h.payload().articleId())) hits++;
                    wanted += truth.size();
                }
                double[] sorted = ms.clone();
                Arrays.sort(sorted);
                double mean = Arrays.stream(ms).average().orElse(0);
                double[] cpuSorted = cpuMs.clone();
                Arrays.sort(cpuSorted);
                int p99 = (int) Math.ceil(sorted.length * 0.99) - 1;
                System.out.printf(Locale.ROOT, "  %-27s %10d  %8.3f  %7.2f  %7.2f  %7.2f  %7.2f  %7.2f  %.2fx%n", name, candidates,
                        wanted == 0 ? 1.0 : hits / wanted, sorted[sorted.length / 2], sorted[p99],
                        mean, cpuSorted[cpuSorted.length / 2], cpuSorted[p99], bruteMs[c] / mean);
            }
        }
    }

    static Set<Long> bruteTop(float[] all, int[] ids, float[] q) {
        long[] best = new long[K];
        double[] bestScore = new double[K];
        Arrays.fill(bestScore, Double.NEGATIVE_INFINITY);
        for (int id : ids) {
            int off = id * DIM;
            float s = 0;
            for (int d = 0; d < DIM; d++) s += all[off + d] * q[d];
            if (s > bestScore[K - 1]) {
                int pos = K - 1;
                while (pos > 0 && bestScore[pos - 1] < s) {
                    bestScore[pos] = bestScore[pos - 1];
                    best[pos] = best[pos - 1];
                    pos--;
                }
                bestScore[pos] = s;
                best[pos] = id;
            }
        }
        Set<Long> out = new HashSet<>();
        for (int i = 0; i < K; i++) if (bestScore[i] > Double.NEGATIVE_INFINITY) out.add(best[i]);
        return out;
    }

    static long size(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.mapToLong(p -> p.toFile().length()).sum();
        }
    }

    static void deleteTree(Path dir) throws Exception {
        if (!Files.exists(dir)) return;
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
