package dev.finadvisor.domain.util;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Exclusive hold on a lock file (a registry model's {@code .lock}, a run being resumed, a file the ingest job's parallel
 * writers share), across processes (an OS file lock, released by the OS if the holder dies) and across threads of this
 * JVM (file locks are per process, so a JVM-wide lock per path goes first; code of another class loader, e.g. another
 * Flink job in the same TaskManager, has a map of its own, so a lock it holds is waited out too).
 */
public final class LockFile implements AutoCloseable {
    private static final ConcurrentHashMap<Path, ReentrantLock> IN_JVM = new ConcurrentHashMap<>();

    private final ReentrantLock jvmLock;
    private final FileChannel channel;
    private final FileLock fileLock;

    private LockFile(ReentrantLock jvmLock, FileChannel channel, FileLock fileLock) {
        this.jvmLock = jvmLock;
        this.channel = channel;
        this.fileLock = fileLock;
    }

    /** Holds {@code FILE.lock} beside {@code file}: one writer of the file at a time. */
    public static LockFile beside(Path file) {
        return acquire(file.resolveSibling(file.getFileName() + ".lock"));
    }

    public static LockFile acquire(Path lockFile) {
        Path key = lockFile.toAbsolutePath().normalize();
        ReentrantLock jvmLock = IN_JVM.computeIfAbsent(key, k -> new ReentrantLock());
        jvmLock.lock();
        try {
            Files.createDirectories(key.getParent());
            FileChannel channel = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                return new LockFile(jvmLock, channel, lock(channel, key));
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        } catch (IOException e) {
            jvmLock.unlock();
            throw new UncheckedIOException("cannot lock " + key + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            jvmLock.unlock();
            throw e;
        }
    }

    private static FileLock lock(FileChannel channel, Path key) throws IOException {
        for (;;) {
            try {
                return channel.lock();
            } catch (OverlappingFileLockException heldInThisJvm) {
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while waiting for " + key, e);
                }
            }
        }
    }

    @Override
    public void close() {
        try {
            fileLock.release();
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot release " + e.getMessage(), e);
        } finally {
            jvmLock.unlock();
        }
    }
}
