package dev.finadvisor.feature.sink;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A file of the state folder that the job's parallel writers share (the dead letters, the metrics): they update it one at
 * a time, threads of one JVM through a lock of the JVM, JVMs (TaskManagers on one machine or one shared file system)
 * through a file lock on {@code FILE.lock} beside it. A writer killed while holding it releases it with its process.
 */
final class SharedFile {
    private static final ConcurrentHashMap<Path, ReentrantLock> IN_THIS_JVM = new ConcurrentHashMap<>();

    /** An update of the file. */
    interface Update {
        void run() throws IOException;
    }

    private SharedFile() {}

    /** Runs {@code update} while no other writer of {@code file} runs one. */
    static void update(Path file, Update update) throws IOException {
        Path lockFile = file.toAbsolutePath().normalize().resolveSibling(file.getFileName() + ".lock");
        ReentrantLock jvm = IN_THIS_JVM.computeIfAbsent(lockFile, p -> new ReentrantLock());
        jvm.lock();
        try {
            Files.createDirectories(lockFile.getParent());
            try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = channel.lock()) {
                update.run();
            }
        } finally {
            jvm.unlock();
        }
    }
}
