package dev.finadvisor.training.tracking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.runs.ModelVersion;
import dev.finadvisor.domain.runs.RegisteredAdapter;
import dev.finadvisor.domain.runs.Registry;
import dev.finadvisor.domain.runs.Run;
import dev.finadvisor.domain.runs.RunStore;
import dev.finadvisor.domain.runs.Sha256;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryWriterTest {
    @TempDir
    Path tmp;

    private Run finishedRun(String name, long seed, double evalLoss) throws Exception {
        try (RunTracker run = RunTracker.start(new RunSpec(tmp.resolve("runs"), name, Map.of(), Fixtures.baseModel(tmp), Fixtures.dataset(tmp), "t", "cpu()").withoutReport())) {
            run.log(1, Map.of("loss", 2.0));
            Fixtures.adapter(run.adapterDir(), seed);
            run.finish(Map.of("eval_loss", evalLoss));
            return RunStore.readDir(run.dir());
        }
    }

    @Test
    void pushNumbersVersionsAndCopiesTheAdapterWithItsBaseModelMetricsAndRunLink() throws Exception {
        Path root = tmp.resolve("registry");
        RegistryWriter writer = new RegistryWriter(root);
        Run first = finishedRun("a", 1, 1.5);
        Run second = finishedRun("b", 2, 1.25);
        ModelVersion v1 = writer.push(first, "fin-advisor");
        ModelVersion v2 = writer.push(second, "fin-advisor");
        assertThat(v1.version()).isEqualTo(1);
        assertThat(v2.version()).isEqualTo(2);
        Registry reg = new Registry(root);
        RegisteredAdapter r2 = reg.resolve("registry:fin-advisor:2");
        assertThat(Sha256.hex(r2.adapterDir())).isEqualTo(Sha256.hex(second.layout().adapter())).isEqualTo(r2.model().adapter().sha256());
        assertThat(r2.baseModel()).isEqualTo(second.info().baseModel());
        assertThat(r2.metrics()).containsEntry("eval_loss", 1.25).containsEntry("loss", 2.0);
        assertThat(r2.model().runId()).isEqualTo(second.id());
        assertThat(Path.of(r2.model().runDir())).isEqualTo(second.layout().dir().toAbsolutePath().normalize());
        assertThat(Files.list(root.resolve("fin-advisor/versions")).map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("1", "2");
    }

    @Test
    void promoteMovesAnAliasAtomicallyAndChecksTheVersionExists() throws Exception {
        Path root = tmp.resolve("registry");
        RegistryWriter writer = new RegistryWriter(root);
        writer.push(finishedRun("a", 1, 1.5), "fin");
        writer.push(finishedRun("b", 2, 1.4), "fin");
        assertThat(writer.promote("fin", 1, "production")).isNull();
        assertThat(new Registry(root).resolve("registry:fin@production").version()).isEqualTo(1);
        assertThat(writer.promote("fin", 2, "production")).isEqualTo(1);
        assertThat(new Registry(root).resolve("registry:fin@production").version()).isEqualTo(2);
        assertThat(new Registry(root).aliases("fin")).containsExactly(Map.entry("production", 2));
        assertThatThrownBy(() -> writer.promote("fin", 9, "production")).isInstanceOf(UserError.class).hasMessageContaining("no version 9");
        assertThatThrownBy(() -> writer.promote("fin", 1, "9lives")).isInstanceOf(UserError.class).hasMessageContaining("alias '9lives'");
        assertThat(Files.list(root.resolve("fin")).map(p -> p.getFileName().toString()).filter(n -> n.contains("tmp"))).isEmpty();
    }

    @Test
    void concurrentPushesGetDistinctCompleteVersions() throws Exception {
        Path root = tmp.resolve("registry");
        int n = 8;
        List<Run> runs = new ArrayList<>();
        for (int i = 0; i < n; i++) runs.add(finishedRun("r" + i, 100 + i, 1.0 + i));
        CyclicBarrier barrier = new CyclicBarrier(n);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        List<Future<ModelVersion>> futures = new ArrayList<>();
        for (Run r : runs) {
            futures.add(pool.submit(() -> {
                barrier.await();
                return new RegistryWriter(root).push(r, "fin");
            }));
        }
        List<Integer> versions = new ArrayList<>();
        for (Future<ModelVersion> f : futures) versions.add(f.get(60, TimeUnit.SECONDS).version());
        pool.shutdown();
        assertThat(versions).containsExactlyInAnyOrder(1, 2, 3, 4, 5, 6, 7, 8);
        Registry reg = new Registry(root);
        for (ModelVersion m : reg.versions("fin")) {
            Run source = runs.stream().filter(r -> r.id().equals(m.runId())).findFirst().orElseThrow();
            assertThat(Sha256.hex(reg.layout().adapter("fin", m.version()))).isEqualTo(Sha256.hex(source.layout().adapter()));
        }
        assertThat(Files.list(root.resolve("fin/versions")).map(p -> p.getFileName().toString())).noneMatch(s -> s.startsWith("."));
    }

    @Test
    void pushesFromTwoProcessesAtOnceGetDistinctVersions() throws Exception {
        Path root = tmp.resolve("registry");
        List<Run> runs = new ArrayList<>();
        for (int i = 0; i < 6; i++) runs.add(finishedRun("p" + i, 200 + i, 1.0));
        Path go = tmp.resolve("go");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> children = new ArrayList<>();
        for (int c = 0; c < 2; c++) {
            List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), PushChild.class.getName(), root.toString(), go.toString()));
            for (int i = c; i < runs.size(); i += 2) cmd.add(runs.get(i).layout().dir().toString());
            children.add(new ProcessBuilder(cmd).redirectErrorStream(true).start());
        }
        List<java.io.BufferedReader> outs = new ArrayList<>();
        for (Process p : children) {
            var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
            for (String line; (line = out.readLine()) != null && !line.equals("ready"); ) { /* JVM start-up noise */ }
            outs.add(out);
        }
        Files.createFile(go); // both are waiting: start them together
        List<Integer> versions = new ArrayList<>();
        StringBuilder log = new StringBuilder();
        for (int c = 0; c < 2; c++) {
            for (String line; (line = outs.get(c).readLine()) != null; ) {
                log.append(line).append('\n');
                if (line.startsWith("pushed ")) versions.add(Integer.parseInt(line.substring(7)));
            }
            assertThat(children.get(c).waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(children.get(c).exitValue()).as(log.toString()).isZero();
        }
        assertThat(versions).as(log.toString()).containsExactlyInAnyOrder(1, 2, 3, 4, 5, 6);
        Registry reg = new Registry(root);
        for (ModelVersion m : reg.versions("fin")) {
            Run source = runs.stream().filter(r -> r.id().equals(m.runId())).findFirst().orElseThrow();
            assertThat(Sha256.hex(reg.layout().adapter("fin", m.version()))).isEqualTo(Sha256.hex(source.layout().adapter()));
        }
    }

    @Test
    void aPushKilledMidCopyLeavesOnlyAHiddenStagingFolderThatChangesNothing() throws Exception {
        Path root = tmp.resolve("registry");
        Path leftover = Files.createDirectories(root.resolve("fin/versions/.staging-dead/adapter"));
        Files.writeString(leftover.resolve("adapter_config.json"), "{\"peft_type\": ");
        Registry reg = new Registry(root);
        assertThat(reg.versionNumbers("fin")).isEmpty();
        ModelVersion v = new RegistryWriter(root).push(finishedRun("after", 9, 1.0), "fin");
        assertThat(v.version()).isEqualTo(1);
        assertThat(reg.versionNumbers("fin")).containsExactly(1);
        assertThat(reg.resolve("registry:fin:1").adapterDir().resolve("adapter_config.json")).content().contains("LORA");
    }

    @Test
    void refusesUnfinishedRunsMissingAdaptersAndChangedAdaptersLeavingNothingBehind() throws Exception {
        Path root = tmp.resolve("registry");
        RegistryWriter writer = new RegistryWriter(root);
        RunTracker running = RunTracker.start(new RunSpec(tmp.resolve("runs"), "live", Map.of(), null, null, "t", "cpu()").withoutReport());
        assertThatThrownBy(() -> writer.push(RunStore.readDir(running.dir()), "fin")).isInstanceOf(UserError.class)
                .hasMessageContaining("is running: only finished runs can be registered");
        running.finish(Map.of());
        assertThatThrownBy(() -> writer.push(RunStore.readDir(running.dir()), "fin")).isInstanceOf(UserError.class)
                .hasMessageContaining(running.adapterDir() + ": missing");
        Run changed = finishedRun("changed", 5, 1.0);
        Files.write(changed.layout().adapter().resolve("adapter_model.safetensors"), Fixtures.bytes(2048, 6));
        assertThatThrownBy(() -> writer.push(changed, "fin")).isInstanceOf(UserError.class)
                .hasMessageContaining("content changed since the run recorded it");
        assertThat(Files.list(root.resolve("fin/versions"))).isEmpty(); // no version, no staging folder
        assertThatThrownBy(() -> writer.push(changed, "bad name")).isInstanceOf(UserError.class).hasMessageContaining("model name 'bad name'");
    }
}
