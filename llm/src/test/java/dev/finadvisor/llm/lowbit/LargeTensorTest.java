package dev.finadvisor.llm.lowbit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.finadvisor.llm.safetensors.SafetensorsShards;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tensor over 2 GiB (Llama-3-8B's fp32 embedding is 2.1 GB) loads: no int-indexed buffer on the way. */
class LargeTensorTest {
    @TempDir Path dir;

    @Test
    void aTensorOverTwoGibibytesPacksWithItsLastRowsIntact() throws Exception {
        int rows = 65_600;
        int cols = 8_192;
        long bytes = 4L * rows * cols;
        assertThat(bytes).isGreaterThan(Integer.MAX_VALUE);
        // a sparse file: the header, zeros, and two rows written past the 2 GiB mark
        byte[] header = ("{\"big.weight\":{\"dtype\":\"F32\",\"shape\":[" + rows + "," + cols + "],\"data_offsets\":[0," + bytes + "]}}")
                .getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("model.safetensors");
        float[] last = new float[cols];
        for (int i = 0; i < cols; i++) last[i] = (i % 255 - 127) * 0.01f;
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            ByteBuffer head = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(header.length).put(header);
            f.write(head.array());
            long data = 8 + header.length;
            f.setLength(data + bytes);
            ByteBuffer row = ByteBuffer.allocate(4 * cols).order(ByteOrder.LITTLE_ENDIAN);
            row.asFloatBuffer().put(last);
            f.seek(data + 4L * (rows - 1) * cols);
            f.write(row.array());
            f.seek(data + 4L * (rows - 3) * cols);
            f.write(row.array());
        }
        try (SafetensorsShards weights = SafetensorsShards.open(dir); Packer packer = new Packer(2)) {
            PackedWeight w = packer.pack(weights, "big.weight", WeightFormat.INT8, dir);
            assertThat(w.rows()).isEqualTo(rows);
            float[] back = new float[cols];
            for (int r : new int[] {rows - 1, rows - 3}) {
                w.dequantize(r, 1, FloatBuffer.wrap(back));
                for (int i = 0; i < cols; i++) assertThat(back[i]).as("[%d, %d]", r, i).isCloseTo(last[i], within(0.01f));
            }
            w.dequantize(rows - 2, 1, FloatBuffer.wrap(back));
            assertThat(back).containsOnly(0f);
            float[] ones = new float[w.preparedLength()];
            float[] x = new float[cols];
            Arrays.fill(x, 1f);
            w.prepare(x, ones);
            double sum = 0;
            for (float v : last) sum += v;
            assertThat((double) w.dot(rows - 1, ones)).isCloseTo(sum, within(0.5));
        }
    }
}
