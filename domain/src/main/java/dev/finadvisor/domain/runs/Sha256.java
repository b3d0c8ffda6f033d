package dev.finadvisor.domain.runs;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * SHA-256 of a file, or of a folder: the hash of the sorted lines "sha256 size relative/path" of its
 * regular files (the same as {@code find . -type f | sort | xargs sha256sum} up to formatting), so it
 * changes when any file's name or content does and not with timestamps.
 */
public final class Sha256 {
    private Sha256() {}

    /** Hash and total size of a file or folder. */
    public static FileRef of(Path path) {
        return new FileRef(path.toAbsolutePath().normalize().toString(), hex(path), size(path));
    }

    public static String hex(Path path) {
        try {
            if (!Files.isDirectory(path)) return HexFormat.of().formatHex(digestFile(path));
            MessageDigest folder = digest();
            for (Path file : files(path)) {
                String line = HexFormat.of().formatHex(digestFile(file)) + " " + Files.size(file) + " "
                        + path.relativize(file).toString().replace('\\', '/') + "\n";
                folder.update(line.getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(folder.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot hash " + path + ": " + e.getMessage(), e);
        }
    }

    static long size(Path path) {
        try {
            if (!Files.isDirectory(path)) return Files.size(path);
            long total = 0;
            for (Path f : files(path)) total += Files.size(f);
            return total;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot measure " + path + ": " + e.getMessage(), e);
        }
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile)
                    .sorted((a, b) -> dir.relativize(a).toString().compareTo(dir.relativize(b).toString()))
                    .toList();
        }
    }

    private static byte[] digestFile(Path file) throws IOException {
        MessageDigest md = digest();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return md.digest();
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
