package dev.finadvisor.feature.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Flink session cluster in JVMs of its own on loopback, started from Flink's own entrypoints (what a Flink
 * distribution's scripts run): one JobManager ({@code StandaloneSessionClusterEntrypoint}) and TaskManagers
 * ({@code TaskManagerRunner}), with a configuration folder written here (ports, slots spread evenly over the
 * TaskManagers, memory, 10 s heartbeat timeout, no HA).
 * Each process gets {@code classpath}; logs go to {@code DIR/log}. A TaskManager can be killed with SIGKILL and started
 * again. Usage: {@code LocalFlinkCluster DIR TASKMANAGERS SLOTS} (the bench script) prints the REST address and runs
 * until it is stopped.
 */
public final class LocalFlinkCluster implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String JOB_MANAGER = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    private static final String TASK_MANAGER = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";

    private final Path dir;
    private final String classpath;
    private final int restPort;
    private final Process jobManager;
    private final List<Process> taskManagers = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    private LocalFlinkCluster(Path dir, String classpath, int restPort, Process jobManager) {
        this.dir = dir;
        this.classpath = classpath;
        this.restPort = restPort;
        this.jobManager = jobManager;
    }

    /** Starts a JobManager and {@code taskManagers} TaskManagers of {@code slots} slots each; returns once all registered. */
    public static LocalFlinkCluster start(Path dir, int taskManagers, int slots, String classpath) throws IOException, InterruptedException {
        Files.createDirectories(dir.resolve("conf"));
        Files.createDirectories(dir.resolve("log"));
        int[] ports = freePorts(2);
        int restPort = ports[0];
        int rpcPort = ports[1];
        Files.writeString(dir.resolve("conf/config.yaml"), config(rpcPort, restPort, slots));
        Files.writeString(dir.resolve("conf/logback.xml"), """
                <configuration>
                  <appender name="out" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{36} - %msg%n</pattern></encoder>
                  </appender>
                  <logger name="org.apache.flink" level="INFO"/>
                  <root level="WARN"><appender-ref ref="out"/></root>
                </configuration>
                """);
        LocalFlinkCluster cluster = new LocalFlinkCluster(dir, classpath, restPort,
                launch(dir, classpath, "jobmanager", List.of("-Xmx512m"), JOB_MANAGER));
        Runtime.getRuntime().addShutdownHook(new Thread(cluster::close)); // no JVM of the cluster outlives this one
        try {
            for (int i = 0; i < taskManagers; i++) cluster.startTaskManager();
            cluster.awaitTaskManagers(taskManagers, Duration.ofSeconds(90));
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            cluster.close();
            throw e;
        }
    }

    /**
     * A TaskManager started without Flink's scripts must be given every memory size (the scripts compute them); these
     * add up to what its JVM is given below: heap = framework + task heap, direct = framework off-heap + network.
     */
    private static String config(int rpcPort, int restPort, int slots) {
        return """
                jobmanager:
                  rpc: {address: 127.0.0.1, port: %d}
                  bind-host: 127.0.0.1
                  memory: {process: {size: 768m}}
                rest: {address: 127.0.0.1, bind-address: 127.0.0.1, port: %d}
                taskmanager:
                  host: 127.0.0.1
                  bind-host: 127.0.0.1
                  numberOfTaskSlots: %d
                  cpu: {cores: %d}
                  load-balance: {mode: SLOTS}
                  memory:
                    framework: {heap: {size: 128m}, off-heap: {size: 128m}}
                    task: {heap: {size: 768m}, off-heap: {size: 0m}}
                    managed: {size: 64m}
                    network: {min: 64m, max: 64m}
                    jvm-metaspace: {size: 256m}
                    jvm-overhead: {min: 192m, max: 192m}
                heartbeat: {interval: 1000, timeout: 10000}
                pekko: {ask: {timeout: 30 s}}
                """.formatted(rpcPort, restPort, slots, slots);
    }

    private static Process launch(Path dir, String classpath, String name, List<String> jvm, String main, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvm);
        command.add("-Dlogback.configurationFile=" + dir.resolve("conf/logback.xml"));
        command.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
        command.addAll(List.of("-cp", classpath, main, "--configDir", dir.resolve("conf").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("log/" + name + ".log").toFile()));
        pb.environment().put("DJL_OFFLINE", "true");
        return pb.start();
    }

    /** Starts one more TaskManager (resource id {@code tm-N}, N counting every one started). */
    public void startTaskManager() throws IOException {
        String id = "tm-" + taskManagers.size();
        taskManagers.add(launch(dir, classpath, id, List.of("-Xmx896m", "-XX:MaxDirectMemorySize=192m"), TASK_MANAGER,
                "-Dtaskmanager.resource-id=" + id));
    }

    /** {@code host:port} of the REST endpoint, what {@code --flink-master} takes. */
    public String master() {
        return "127.0.0.1:" + restPort;
    }

    /** SIGKILL to the TaskManager {@code tm-N}; returns once it is gone. */
    public void killTaskManager(String id) throws InterruptedException {
        Process p = taskManagers.get(Integer.parseInt(id.substring(3)));
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
    }

    /** The TaskManagers the JobManager knows, with their slots: GET /taskmanagers. */
    public JsonNode taskManagers() throws IOException, InterruptedException {
        return get("/taskmanagers").get("taskmanagers");
    }

    /** The TaskManager with a slot in use (the one running the job), or null. */
    public String busyTaskManager() throws IOException, InterruptedException {
        for (JsonNode tm : taskManagers()) {
            if (tm.get("freeSlots").asInt() < tm.get("slotsNumber").asInt()) return tm.get("id").asText();
        }
        return null;
    }

    /** Cancels every job not yet ended (PATCH /jobs/ID), so one test's leftover does not hold another's slots. */
    public void cancelRunningJobs() throws IOException, InterruptedException {
        for (JsonNode j : jobs()) {
            String state = j.get("state").asText();
            if (state.equals("FINISHED") || state.equals("CANCELED") || state.equals("FAILED")) continue;
            http.send(HttpRequest.newBuilder(URI.create("http://" + master() + "/jobs/" + j.get("jid").asText() + "?mode=cancel"))
                    .method("PATCH", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        }
    }

    /** Waits until the job has completed more checkpoints than {@code after} (GET /jobs/ID/checkpoints); returns the count. */
    public long awaitCheckpoint(String jobId, long after, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            long completed = get("/jobs/" + jobId + "/checkpoints").path("counts").path("completed").asLong();
            if (completed > after) return completed;
            Thread.sleep(100);
        }
        throw new AssertionError("no checkpoint of job " + jobId + " completed within " + timeout);
    }

    /** The cluster's jobs: GET /jobs/overview. */
    public JsonNode jobs() throws IOException, InterruptedException {
        return get("/jobs/overview").get("jobs");
    }

    public JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + master() + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new IOException("GET " + path + ": " + r.statusCode() + " " + r.body());
        return JSON.readTree(r.body());
    }

    public void awaitTaskManagers(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!jobManager.isAlive()) throw new AssertionError("the JobManager exited; see " + dir.resolve("log/jobmanager.log"));
            try {
                int registered = get("/overview").get("taskmanagers").asInt();
                if (registered == n) return;
                last = registered + " registered";
            } catch (IOException e) {
                last = e.getMessage(); // the REST endpoint is not up yet
            }
            Thread.sleep(250);
        }
        throw new AssertionError("waited " + timeout + " for " + n + " TaskManagers (" + last + "); logs in " + dir.resolve("log"));
    }

    @Override
    public void close() {
        List<Process> all = new ArrayList<>(taskManagers);
        all.add(jobManager);
        for (Process p : all) p.destroy();
        for (Process p : all) {
            try {
                if (!p.waitFor(20, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Distinct free ports (each socket held until all are chosen, so two are never the same). */
    private static int[] freePorts(int n) throws IOException {
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) held.add(new ServerSocket(0));
            return held.stream().mapToInt(ServerSocket::getLocalPort).toArray();
        } finally {
            for (ServerSocket s : held) s.close();
        }
    }

    /**
     * Runs a cluster until the process is stopped: {@code LocalFlinkCluster DIR [TASKMANAGERS=2] [SLOTS=2] [CLASSPATH]};
     * the cluster's JVMs get CLASSPATH (e.g. Flink's jars alone, as a Flink distribution has them), else this JVM's.
     */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int tms = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int slots = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        LocalFlinkCluster cluster = start(dir, tms, slots, args.length > 3 ? args[3] : System.getProperty("java.class.path"));
        System.out.println("flink cluster: REST at " + cluster.master() + ", " + tms + " TaskManagers of " + slots + " slots; logs in " + dir.resolve("log"));
        System.out.flush();
        Thread.currentThread().join();
    }
}
