package dev.finadvisor.training.tracking;

import java.nio.file.Path;
import java.util.Map;

/** A training process for the kill tests: starts a run, logs a few steps, says "ready", then waits to be killed. */
public final class TrackerChild {
    public static void main(String[] args) throws Exception {
        RunTracker run = RunTracker.start(new RunSpec(Path.of(args[0]), "child", Map.of("lr", 1e-4), null, null, "test", "cpu()").withoutReport());
        for (int step = 1; step <= 3; step++) run.log(step, Map.of("loss", 3.0 / step));
        System.out.println("ready " + run.id());
        System.out.flush();
        Thread.sleep(120_000);
    }
}
