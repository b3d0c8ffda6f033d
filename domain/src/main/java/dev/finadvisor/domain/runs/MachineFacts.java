package dev.finadvisor.domain.runs;

/** The machine a run ran on: enough to explain a difference in speed or numbers between two runs. */
public record MachineFacts(
        String host,
        String os,
        String arch,
        int cores,
        long memoryBytes,
        long maxHeapBytes,
        String java,
        String engine,
        String device) {}
