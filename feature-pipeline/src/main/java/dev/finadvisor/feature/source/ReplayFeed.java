package dev.finadvisor.feature.source;

import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** A JSON Lines file, one Alpaca news object per line, from line {@code linesDone + 1}; blank lines are skipped. */
final class ReplayFeed implements NewsFeed {
    private final ReplaySplit split;

    ReplayFeed(ReplaySplit split) {
        this.split = split;
    }

    @Override
    public void run(FeedOutput out) throws Exception {
        Path file = Path.of(split.path());
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            long line = 0;
            String text;
            while ((text = reader.readLine()) != null) {
                line++;
                if (line <= split.linesDone()) continue;
                if (Thread.currentThread().isInterrupted()) throw new InterruptedException();
                ReplaySplit after = new ReplaySplit(split.path(), line);
                if (text.isBlank()) continue;
                out.emit(new IncomingNews(text, file.getFileName() + " line " + line, System.currentTimeMillis()), after);
            }
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(split.path(), null, "news replay file not found");
        }
    }
}
