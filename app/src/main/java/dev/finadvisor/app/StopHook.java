package dev.finadvisor.app;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C or SIGTERM during a long job: the JVM's shutdown hook runs {@code onStop} (e.g. sets a flag the job checks),
 * then keeps the JVM alive until the job has wound down (this hook is closed) or {@code wait} has passed, so what was
 * done is written and said before the JVM exits. Close it after the job's last output.
 */
final class StopHook implements AutoCloseable {
    private final CountDownLatch done = new CountDownLatch(1);
    private final Thread hook;

    private StopHook(String name, Runnable onStop, Duration wait) {
        hook = new Thread(() -> {
            onStop.run();
            try {
                done.await(wait.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, name);
    }

    static StopHook install(String name, Runnable onStop, Duration wait) {
        StopHook h = new StopHook(name, onStop, wait);
        Runtime.getRuntime().addShutdownHook(h.hook);
        return h;
    }

    @Override
    public void close() {
        done.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running: it returns now that done is counted down
        }
    }
}
