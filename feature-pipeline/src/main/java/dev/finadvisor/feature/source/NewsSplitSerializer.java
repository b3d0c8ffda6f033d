package dev.finadvisor.feature.source;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/** Binary form of splits (and of the enumerator's list of unassigned splits) in checkpoints. */
public final class NewsSplitSerializer implements SimpleVersionedSerializer<NewsSplit> {
    private static final int VERSION = 1;
    private static final byte REPLAY = 1, BACKFILL = 2, STREAM = 3;

    @Override
    public int getVersion() {
        return VERSION;
    }

    @Override
    public byte[] serialize(NewsSplit split) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            write(split, out);
        }
        return bytes.toByteArray();
    }

    @Override
    public NewsSplit deserialize(int version, byte[] serialized) throws IOException {
        if (version != VERSION) throw new IOException("unknown news split format version " + version);
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
            return read(in);
        }
    }

    static void write(NewsSplit split, DataOutputStream out) throws IOException {
        if (split instanceof ReplaySplit r) {
            out.writeByte(REPLAY);
            out.writeUTF(r.path());
            out.writeLong(r.linesDone());
        } else if (split instanceof BackfillSplit b) {
            out.writeByte(BACKFILL);
            writeInstant(out, b.from());
            writeInstant(out, b.to());
            writeStrings(out, b.symbols());
            writeNullable(out, b.pageToken());
            out.writeInt(b.doneInPage());
        } else if (split instanceof StreamSplit s) {
            out.writeByte(STREAM);
            writeStrings(out, s.symbols());
            writeInstant(out, s.lastSeenAt());
            writeStrings(out, s.recentKeys());
        } else {
            throw new IOException("unknown news split " + split);
        }
    }

    static NewsSplit read(DataInputStream in) throws IOException {
        byte kind = in.readByte();
        return switch (kind) {
            case REPLAY -> new ReplaySplit(in.readUTF(), in.readLong());
            case BACKFILL -> new BackfillSplit(readInstant(in), readInstant(in), readStrings(in), readNullable(in), in.readInt());
            case STREAM -> new StreamSplit(readStrings(in), readInstant(in), readStrings(in));
            default -> throw new IOException("unknown news split kind " + kind);
        };
    }

    private static void writeInstant(DataOutputStream out, Instant t) throws IOException {
        out.writeBoolean(t != null);
        if (t != null) {
            out.writeLong(t.getEpochSecond());
            out.writeInt(t.getNano());
        }
    }

    private static Instant readInstant(DataInputStream in) throws IOException {
        return in.readBoolean() ? Instant.ofEpochSecond(in.readLong(), in.readInt()) : null;
    }

    private static void writeNullable(DataOutputStream out, String s) throws IOException {
        out.writeBoolean(s != null);
        if (s != null) out.writeUTF(s);
    }

    private static String readNullable(DataInputStream in) throws IOException {
        return in.readBoolean() ? in.readUTF() : null;
    }

    private static void writeStrings(DataOutputStream out, List<String> list) throws IOException {
        out.writeInt(list.size());
        for (String s : list) out.writeUTF(s);
    }

    private static List<String> readStrings(DataInputStream in) throws IOException {
        int n = in.readInt();
        List<String> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) list.add(in.readUTF());
        return list;
    }

    /** The enumerator's checkpoint: the splits not yet handed to a reader. */
    public static final class Pending implements SimpleVersionedSerializer<List<NewsSplit>> {
        @Override
        public int getVersion() {
            return VERSION;
        }

        @Override
        public byte[] serialize(List<NewsSplit> splits) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                out.writeInt(splits.size());
                for (NewsSplit s : splits) write(s, out);
            }
            return bytes.toByteArray();
        }

        @Override
        public List<NewsSplit> deserialize(int version, byte[] serialized) throws IOException {
            if (version != VERSION) throw new IOException("unknown news enumerator format version " + version);
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
                int n = in.readInt();
                List<NewsSplit> splits = new ArrayList<>(n);
                for (int i = 0; i < n; i++) splits.add(read(in));
                return splits;
            }
        }
    }
}
