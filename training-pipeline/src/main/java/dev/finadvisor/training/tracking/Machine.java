package dev.finadvisor.training.tracking;

import dev.finadvisor.domain.runs.MachineFacts;
import dev.finadvisor.domain.runs.ProcessRef;
import java.lang.management.ManagementFactory;

/** Facts about this machine for run.json; the trainer supplies the engine and device it uses. */
final class Machine {
    private Machine() {}

    static MachineFacts facts(String engine, String device) {
        long memory = -1;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            memory = os.getTotalMemorySize();
        }
        Runtime rt = Runtime.getRuntime();
        return new MachineFacts(ProcessRef.localHost(),
                System.getProperty("os.name") + " " + System.getProperty("os.version"),
                System.getProperty("os.arch"),
                rt.availableProcessors(), memory, rt.maxMemory(),
                System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")",
                engine, device);
    }
}
