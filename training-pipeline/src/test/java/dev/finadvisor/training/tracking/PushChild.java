package dev.finadvisor.training.tracking;

import dev.finadvisor.domain.runs.RunStore;
import java.nio.file.Path;

/** A second process for the registry tests: waits for a start file, then pushes each run folder given. */
public final class PushChild {
    public static void main(String[] args) throws Exception {
        Path registry = Path.of(args[0]);
        Path go = Path.of(args[1]);
        System.out.println("ready");
        System.out.flush();
        while (!java.nio.file.Files.exists(go)) Thread.sleep(5);
        RegistryWriter writer = new RegistryWriter(registry);
        for (int i = 2; i < args.length; i++) System.out.println("pushed " + writer.push(RunStore.readDir(Path.of(args[i])), "fin").version());
    }
}
