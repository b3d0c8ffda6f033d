package dev.finadvisor.domain.runs;

/**
 * Identity of a file or folder: where it was ({@code path}, absolute when outside the run folder,
 * relative to it when inside), its SHA-256 ({@link Sha256#of}) and its size in bytes.
 */
public record FileRef(String path, String sha256, long bytes) {}
