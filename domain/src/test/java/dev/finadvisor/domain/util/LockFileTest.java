package dev.finadvisor.domain.util;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LockFileTest {
    @TempDir Path dir;

    @Test
    void aLockHeldInThisJvmOutsideLockFileIsWaitedOutNotAnError() throws Exception {
        // as code of another class loader holds it (another Flink job's copy of this class in the same TaskManager)
        Path lock = dir.resolve("state/metrics.json.lock");
        java.nio.file.Files.createDirectories(lock.getParent());
        CompletableFuture<Long> acquiredAt = new CompletableFuture<>();
        long released;
        try (FileChannel other = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE); FileLock held = other.lock()) {
            new Thread(() -> {
                try (LockFile mine = LockFile.acquire(lock)) {
                    acquiredAt.complete(System.nanoTime());
                } catch (Throwable t) {
                    acquiredAt.completeExceptionally(t);
                }
            }).start();
            Thread.sleep(200);
            assertThat(acquiredAt).as("still waiting while the other holds it").isNotDone();
            released = System.nanoTime();
        }
        assertThat(acquiredAt.get(10, TimeUnit.SECONDS)).isGreaterThan(released);
    }
}
