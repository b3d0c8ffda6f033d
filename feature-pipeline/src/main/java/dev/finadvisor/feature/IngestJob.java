package dev.finadvisor.feature;

import dev.finadvisor.feature.sink.IngestSink;
import dev.finadvisor.feature.sink.PreparedNews;
import dev.finadvisor.feature.source.NewsSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.client.deployment.ClusterClientJobClientAdapter;
import org.apache.flink.client.deployment.StandaloneClusterId;
import org.apache.flink.client.program.rest.RestClusterClient;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.client.JobStatusMessage;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The feature pipeline as a Flink job: news source, then parse/validate/clean, then the sink that
 * chunks, embeds and upserts. Runs in-process or on a cluster ({@code host:port} of its REST
 * endpoint); checkpoints go to a folder of their own, and a new run resumes from the newest
 * checkpoint or savepoint there.
 */
public final class IngestJob {
    private static final Logger log = LoggerFactory.getLogger(IngestJob.class);

    /**
     * Where and how the job runs: {@code master} is null (in-process) or {@code host:port};
     * {@code jars} ship to a cluster (the classpath's jars); checkpoints go under {@code checkpointDir}; {@code parallelism}
     * subtasks prepare and embed (see {@link #define}).
     */
    public record Runtime(String master, List<String> jars, Path checkpointDir, Duration checkpointInterval, int parallelism) {
        public Runtime {
            jars = jars == null ? List.of() : List.copyOf(jars);
        }

        public Runtime(String master, List<String> jars, Path checkpointDir, Duration checkpointInterval) {
            this(master, jars, checkpointDir, checkpointInterval, 1);
        }

        String host() {
            return master.substring(0, master.lastIndexOf(':'));
        }

        int port() {
            return Integer.parseInt(master.substring(master.lastIndexOf(':') + 1));
        }

        Configuration restConfig() {
            Configuration config = new Configuration();
            config.set(RestOptions.ADDRESS, host());
            config.set(RestOptions.PORT, port());
            return config;
        }
    }

    /** Articles a "prepare and embed" subtask holds at once (waiting for the model or being embedded). */
    static final int EMBED_CAPACITY = 64;
    /** Longer than any batch of the model: an article waiting this long means the subtask is stuck, and the job restarts. */
    static final Duration EMBED_TIMEOUT = Duration.ofMinutes(10);

    private IngestJob() {}

    /**
     * Adds the pipeline to {@code env}: "news" (the source: one ordered feed), "prepare" (parse, validate, clean HTML),
     * "index" (chunk, embed, upsert). With {@code parallelism} 1 all three run in one chain and the sink embeds beside its
     * writes; above 1, "prepare and embed" runs in that many subtasks, keyed by article id (the model is the bottleneck),
     * into "index" writers that only check and write: as many for a store that takes parallel writers (Qdrant), keyed by
     * article id again, so every version of an article reaches one writer in order (even when a change of parallelism
     * has spread the embedding subtasks' checkpointed articles anew, not by key); otherwise the one writer a Lucene
     * index allows.
     */
    public static void define(StreamExecutionEnvironment env, NewsSource source, IngestSink sink, int parallelism) {
        var news = env.fromSource(source, WatermarkStrategy.noWatermarks(), "news").uid("news-source").setParallelism(1);
        var prepared = parallelism == 1
                ? news.map(new PrepareNews()).name("prepare").uid("prepare-news").setParallelism(1)
                : AsyncDataStream.orderedWait(news.keyBy(new PrepareAndEmbed.ArticleId()), new PrepareAndEmbed(sink.embedder(), sink.settings()),
                                EMBED_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS, EMBED_CAPACITY)
                        .name("prepare and embed").uid("prepare-embed").setParallelism(parallelism);
        int writers = parallelism > 1 && sink.takesParallelWriters() ? parallelism : 1;
        DataStream<PreparedNews> toWrite = writers > 1 ? prepared.keyBy(new PrepareAndEmbed.PreparedArticleId()) : prepared;
        toWrite.sinkTo(parallelism == 1 ? sink : sink.writingOnly()).name("index").uid("vector-store-sink").setParallelism(writers);
    }

    public static void define(StreamExecutionEnvironment env, NewsSource source, IngestSink sink) {
        define(env, source, sink, 1);
    }

    /** An environment with checkpointing into {@code runtime.checkpointDir()}, restoring from {@code restore} if given. */
    public static StreamExecutionEnvironment environment(Runtime runtime, Optional<Path> restore) {
        Configuration config = new Configuration();
        config.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, runtime.checkpointInterval());
        config.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        config.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, runtime.checkpointDir().toAbsolutePath().toUri().toString());
        config.set(CheckpointingOptions.SAVEPOINT_DIRECTORY, savepointDir(runtime).toUri().toString());
        config.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION, ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        config.set(CheckpointingOptions.MAX_RETAINED_CHECKPOINTS, 2);
        // A source that keeps failing (e.g. a rejected key) should end the run, not loop forever.
        config.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        config.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        config.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(2));
        // Never with unclaimed state ignored: the embedding subtasks' checkpointed articles would be dropped silently.
        restore.ifPresent(path -> config.set(StateRecoveryOptions.SAVEPOINT_PATH, path.toUri().toString()));
        StreamExecutionEnvironment env;
        if (runtime.master() == null) {
            env = StreamExecutionEnvironment.createLocalEnvironment(runtime.parallelism(), config);
        } else {
            env = StreamExecutionEnvironment.createRemoteEnvironment(runtime.host(), runtime.port(), config, runtime.jars().toArray(String[]::new));
        }
        env.setParallelism(1);
        return env;
    }

    /** The newest retained checkpoint or savepoint under {@code dir}, if any. */
    public static Optional<Path> latestCheckpoint(Path dir) {
        if (!Files.isDirectory(dir)) return Optional.empty();
        try (Stream<Path> files = Files.walk(dir, 4)) {
            return files.filter(p -> p.getFileName().toString().equals("_metadata"))
                    .max(Comparator.comparingLong(IngestJob::modified))
                    .map(Path::getParent);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints in " + dir, e);
        }
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }

    private static Path savepointDir(Runtime runtime) {
        return runtime.checkpointDir().toAbsolutePath().resolve("savepoints");
    }

    /** Runs a bounded job to its end; its checkpoints are then of no further use and are deleted. */
    public static JobExecutionResult runToEnd(StreamExecutionEnvironment env, Runtime runtime, String name) throws Exception {
        JobExecutionResult result = env.execute(name);
        deleteRecursively(runtime.checkpointDir());
        return result;
    }

    /**
     * Runs until the job ends by itself or {@code stop} (may be null: never) completes; then stops it with a savepoint
     * (sources stop, the sink commits, the state is saved) and returns the savepoint's path.
     */
    public static Optional<String> runUntil(StreamExecutionEnvironment env, Runtime runtime, String name,
                                            CompletableFuture<?> stop) throws Exception {
        JobClient client = attachOrSubmit(env, runtime, name);
        CompletableFuture<JobExecutionResult> result = client.getJobExecutionResult();
        if (stop == null) stop = new CompletableFuture<>();
        CompletableFuture.anyOf(result, stop).get();
        if (result.isDone()) {
            result.get(); // rethrows the job's failure
            return Optional.empty();
        }
        log.info("stopping the ingest job with a savepoint in {}", savepointDir(runtime));
        String savepoint = client.stopWithSavepoint(false, savepointDir(runtime).toUri().toString(), SavepointFormatType.CANONICAL)
                .get(5, TimeUnit.MINUTES);
        try {
            result.get(1, TimeUnit.MINUTES);
        } catch (ExecutionException e) {
            log.debug("ingest job ended after its savepoint: {}", e.getMessage());
        }
        log.info("ingest job stopped; savepoint {}", savepoint);
        return Optional.of(savepoint);
    }

    /**
     * On a cluster, a job of this name still running there (its client was killed, or lost its connection) is attached
     * to rather than started a second time beside itself; otherwise, and in-process, the job is submitted.
     */
    private static JobClient attachOrSubmit(StreamExecutionEnvironment env, Runtime runtime, String name) throws Exception {
        Optional<JobStatusMessage> running = running(runtime, name);
        if (running.isEmpty()) return env.executeAsync(name);
        log.info("job '{}' ({}) is already {} on the cluster: following it instead of submitting it again (it keeps the"
                + " parallelism it was started with)", name, running.get().getJobId(), running.get().getJobState());
        // The adapter closes the client it is given after each request: give it one of its own each time.
        Configuration config = runtime.restConfig();
        return new ClusterClientJobClientAdapter<>(() -> restClient(config), running.get().getJobId(), IngestJob.class.getClassLoader());
    }

    /** The id of a job of this name not yet ended on the cluster (none in-process). */
    public static Optional<String> runningJob(Runtime runtime, String name) {
        return running(runtime, name).map(j -> j.getJobId().toString());
    }

    private static Optional<JobStatusMessage> running(Runtime runtime, String name) {
        if (runtime.master() == null) return Optional.empty();
        try (RestClusterClient<StandaloneClusterId> cluster = restClient(runtime.restConfig())) {
            return cluster.listJobs().get(1, TimeUnit.MINUTES).stream()
                    .filter(j -> j.getJobName().equals(name) && !j.getJobState().isGloballyTerminalState()).findFirst();
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot list the jobs of the Flink cluster at " + runtime.master() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while listing the cluster's jobs", e);
        }
    }

    /** Whether a job failed because its checkpoint holds state for an operator the new job does not have. */
    static boolean stateDoesNotMap(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains("Cannot map checkpoint/savepoint state")) return true;
        }
        return false;
    }

    private static RestClusterClient<StandaloneClusterId> restClient(Configuration config) {
        try {
            return new RestClusterClient<>(config, StandaloneClusterId.getInstance());
        } catch (Exception e) {
            throw new IllegalStateException("cannot create a client for the Flink cluster: " + e.getMessage(), e);
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
