package dev.finadvisor.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.lucene.index.CheckIndex;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 of a JVM in the middle of ingestion: the index stays readable and keeps every committed point. */
class LuceneVectorStoreCrashTest {
    @TempDir
    Path tmp;

    @Test
    void killDashNineDuringIngestionLosesNoCommittedPointAndLeavesAReadableIndex() throws Exception {
        Path dir = tmp.resolve("idx");
        Random random = new Random();
        long committed = 0;
        for (int round = 0; round < 3; round++) {
            long before = committed;
            committed = ingestUntilKilled(dir, before + 300 + random.nextInt(300), random.nextInt(40));
            assertThat(committed).isGreaterThan(before);

            try (var fs = FSDirectory.open(dir); var check = new CheckIndex(fs)) {
                assertThat(check.checkIndex().clean).as("CheckIndex after kill in round " + round).isTrue();
            }
            try (var store = LuceneVectorStore.open(dir, 384)) {
                for (long a = 0; a < committed; a++) {
                    assertThat(store.articleUpdatedAt(a)).as("committed article " + a + " after round " + round).isPresent();
                }
                ClusteredVectors vectors = TestPoints.vectors(384, 21);
                long probe = random.nextLong(committed);
                assertThat(store.search(vectors.vector(probe), 1, SearchFilter.NONE)).extracting(Hit::id)
                        .containsExactly(probe + "#0");
                // The child resumes numbering from count(): drop its uncommitted leftovers and odd marker points.
                long extra = store.count() - committed;
                for (long a = committed; a < committed + extra + 1000; a++) store.deleteArticle(a);
                for (long a = 1; a < committed + extra + 1000; a++) store.deleteArticle(-a);
                store.commit();
                assertThat(store.count()).isEqualTo(committed);
            }
        }
    }

    /** Runs {@link CrashingIngester} until it has committed at least {@code target} points, waits, then SIGKILLs it. */
    private long ingestUntilKilled(Path dir, long target, int extraMillis) throws Exception {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path log = Files.createTempFile(tmp, "child", ".log");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", classpath, CrashingIngester.class.getName(), dir.toString(), "100")
                .redirectError(log.toFile())
                .start();
        long committed = 0;
        List<String> lines = new ArrayList<>();
        try (var out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while (committed < target && (line = out.readLine()) != null) {
                lines.add(line);
                committed = Long.parseLong(line.substring("committed ".length()));
            }
            assertThat(committed).as("child stopped early; its log:\n" + Files.readString(log)).isGreaterThanOrEqualTo(target);
            Thread.sleep(extraMillis); // land the kill anywhere in the next batch, flush or merge
            // SIGKILL: no shutdown hooks, no close(). Through the handle, which (unlike Process.destroy)
            // leaves the pipe open so the lines already printed can still be read.
            child.toHandle().destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            // Lines printed after our last read are commits too.
            while ((line = out.readLine()) != null) committed = Long.parseLong(line.substring("committed ".length()));
        }
        assertThat(child.exitValue()).isEqualTo(137);
        return committed;
    }
}
