package dev.finadvisor.feature.source;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A JSON Lines file, one Alpaca news object per line, from line {@code linesDone + 1}; blank lines are skipped, a UTF-8
 * byte order mark at the start of the file is not part of the first line, and a line that is not UTF-8 goes on as an
 * unreadable message (a dead letter naming its line) instead of ending the job.
 */
final class ReplayFeed implements NewsFeed {
    private final ReplaySplit split;

    ReplayFeed(ReplaySplit split) {
        this.split = split;
    }

    @Override
    public void run(FeedOutput out) throws Exception {
        Path file = Path.of(split.path());
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            long line = 0;
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            while (readLine(in, bytes)) {
                line++;
                if (line <= split.linesDone()) continue;
                if (Thread.currentThread().isInterrupted()) throw new InterruptedException();
                ReplaySplit after = new ReplaySplit(split.path(), line);
                byte[] raw = bytes.toByteArray();
                int from = line == 1 && raw.length >= 3 && (raw[0] & 0xff) == 0xEF && (raw[1] & 0xff) == 0xBB && (raw[2] & 0xff) == 0xBF ? 3 : 0;
                String origin = file.getFileName() + " line " + line;
                try {
                    String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw, from, raw.length - from)).toString();
                    if (text.isBlank()) continue;
                    out.emit(new IncomingNews(text, origin, System.currentTimeMillis()), after);
                } catch (CharacterCodingException e) {
                    out.emit(new IncomingNews(new String(raw, from, raw.length - from, StandardCharsets.UTF_8), origin, System.currentTimeMillis(),
                            "not UTF-8 text: the line holds bytes that do not decode (" + e.getMessage() + ")"), after);
                }
            }
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(split.path(), null, "news replay file not found");
        }
    }

    /** The next line's bytes into {@code bytes} (without its \n or \r\n); false at the end of the file. */
    private static boolean readLine(InputStream in, ByteArrayOutputStream bytes) throws java.io.IOException {
        bytes.reset();
        int b;
        boolean any = false;
        while ((b = in.read()) != -1) {
            any = true;
            if (b == '\n') break;
            bytes.write(b);
        }
        if (!any) return false;
        byte[] raw = bytes.toByteArray();
        if (raw.length > 0 && raw[raw.length - 1] == '\r') {
            bytes.reset();
            bytes.write(raw, 0, raw.length - 1);
        }
        return true;
    }
}
