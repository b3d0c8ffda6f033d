package dev.finadvisor.llm.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    @TempDir
    Path dir;

    /** A NaN or infinite weight is refused as it is read, naming the tensor and the element, in every float dtype. */
    @Test
    void aValueThatIsNotFiniteIsRefusedNamingTensorAndElement() throws IOException {
        for (Dtype dtype : new Dtype[] {Dtype.F32, Dtype.BF16, Dtype.F16}) {
            float[] values = new float[12];
            for (int i = 0; i < values.length; i++) values[i] = i * 0.5f;
            values[7] = dtype == Dtype.F16 ? Float.POSITIVE_INFINITY : Float.NaN;
            Path file = dir.resolve("bad-" + dtype + ".safetensors");
            new SafetensorsWriter().addFloats("model.layers.0.mlp.up_proj.weight", new long[] {3, 4}, values, dtype).write(file);
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                assertThatThrownBy(() -> f.readFloats("model.layers.0.mlp.up_proj.weight")).as(dtype.toString())
                        .isInstanceOf(SafetensorsException.class)
                        .hasMessageContaining("model.layers.0.mlp.up_proj.weight").hasMessageContaining("at element 7 of 12");
            }
        }
    }

    @Test
    void floatTensorsRoundTripInEveryFloatDtype() throws IOException {
        Random rnd = new Random();
        float[] values = new float[3 * 5];
        for (int i = 0; i < values.length; i++) values[i] = (float) rnd.nextGaussian();
        Path file = dir.resolve("t.safetensors");
        new SafetensorsWriter()
                .metadata("format", "pt")
                .addFloats("a.f32", new long[] {3, 5}, values, Dtype.F32)
                .addFloats("a.f16", new long[] {3, 5}, values, Dtype.F16)
                .addFloats("a.bf16", new long[] {3, 5}, values, Dtype.BF16)
                .write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.metadata()).containsEntry("format", "pt");
            assertThat(f.tensors()).extracting(TensorInfo::name).containsExactly("a.f32", "a.f16", "a.bf16");
            assertThat(f.info("a.bf16").shape()).containsExactly(3, 5);
            float[] f32 = f.readFloats("a.f32");
            float[] f16 = f.readFloats("a.f16");
            float[] bf16 = f.readFloats("a.bf16");
            for (int i = 0; i < values.length; i++) {
                assertThat(f32[i]).isEqualTo(values[i]);
                assertThat(f16[i]).isCloseTo(values[i], org.assertj.core.data.Offset.offset(Math.abs(values[i]) / 1024 + 1e-7f));
                assertThat(bf16[i]).isCloseTo(values[i], org.assertj.core.data.Offset.offset(Math.abs(values[i]) / 128 + 1e-30f));
            }
        }
    }

    @Test
    void halfFloatConversionsAreExactOnRepresentableValues() {
        // every finite fp16 value survives f16 -> f32 -> f16; every bf16 likewise
        for (int h = 0; h < 0x10000; h++) {
            short bits = (short) h;
            float f = HalfFloats.f16ToFloat(bits);
            if (!Float.isNaN(f)) assertThat(HalfFloats.floatToF16(f)).as("f16 %04x", h).isEqualTo(bits);
            float b = HalfFloats.bf16ToFloat(bits);
            if (!Float.isNaN(b)) assertThat(HalfFloats.floatToBf16(b)).as("bf16 %04x", h).isEqualTo(bits);
        }
        assertThat(HalfFloats.f16ToFloat((short) 0x3c00)).isEqualTo(1f);
        assertThat(HalfFloats.f16ToFloat((short) 0xc000)).isEqualTo(-2f);
        assertThat(HalfFloats.f16ToFloat((short) 0x0001)).isEqualTo(0x1p-24f);
        assertThat(HalfFloats.floatToF16(65520f)).isEqualTo((short) 0x7c00); // rounds to infinity
        assertThat(HalfFloats.floatToBf16(1.00390625f)).isEqualTo((short) 0x3f80); // tie rounds to even
    }

    @Test
    void tensorsLoadAsFp32NdArraysWhateverTheirStoredFloatType() throws IOException {
        float[] values = {1f, -2f, 0.5f, 3.25f, 0f, -0.125f};
        Path file = dir.resolve("nd.safetensors");
        ByteBuffer ids = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putLong(7).putLong(-1).putLong(1L << 40).rewind();
        new SafetensorsWriter()
                .addFloats("w", new long[] {2, 3}, values, Dtype.BF16)
                .add("ids", Dtype.I64, new long[] {3}, ids)
                .write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file); NDManager m = NDManager.newBaseManager()) {
            NDArray w = f.toNDArray(m, "w");
            assertThat(w.getDataType()).isEqualTo(DataType.FLOAT32);
            assertThat(w.getShape().getShape()).containsExactly(2, 3);
            assertThat(w.toFloatArray()).containsExactly(values);
            NDArray i = f.toNDArray(m, "ids");
            assertThat(i.toLongArray()).containsExactly(7, -1, 1L << 40);
            // NDArrays written back keep their values
            Path again = dir.resolve("again.safetensors");
            new SafetensorsWriter().add("w", w).write(again);
            try (SafetensorsFile g = SafetensorsFile.open(again)) {
                assertThat(g.readFloats("w")).containsExactly(values);
            }
        }
    }

    @Test
    void writeIsAtomicAndLeavesNoTemporaryFiles() throws IOException {
        Path file = dir.resolve("a.safetensors");
        new SafetensorsWriter().addFloats("x", new long[] {1}, new float[] {1}).write(file);
        new SafetensorsWriter().addFloats("y", new long[] {2}, new float[] {2, 3}).write(file);
        try (var list = Files.list(dir)) {
            assertThat(list).containsExactly(file);
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.contains("x")).isFalse();
            assertThat(f.readFloats("y")).containsExactly(2, 3);
        }
        long headerLength = ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(headerLength % 8).isZero();
    }

    @Test
    void headerLengthPastTheEndIsATruncatedFileError() throws IOException {
        Path file = dir.resolve("cut.safetensors");
        new SafetensorsWriter().addFloats("x", new long[] {4}, new float[4]).write(file);
        byte[] all = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(all, 20));
        assertThatThrownBy(() -> SafetensorsFile.open(file)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("runs past the end of the file");
    }

    @Test
    void truncatedDataIsAnErrorNamingTheTensor() throws IOException {
        Path file = dir.resolve("cut.safetensors");
        new SafetensorsWriter().addFloats("x", new long[] {4}, new float[4]).addFloats("last", new long[] {4}, new float[4]).write(file);
        byte[] all = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(all, all.length - 3));
        assertThatThrownBy(() -> SafetensorsFile.open(file)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("tensor 'last'").hasMessageContaining("run past the end of the data");
    }

    @Test
    void absurdHeaderLengthIsRefusedWithoutAllocating() throws IOException {
        Path file = dir.resolve("huge.safetensors");
        Files.write(file, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE - 3).array());
        assertThatThrownBy(() -> SafetensorsFile.open(file)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("header length").hasMessageContaining("corrupt");
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[3]);
        assertThatThrownBy(() -> SafetensorsFile.open(tiny)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("shorter than the 8-byte header length");
    }

    @Test
    void overlappingTensorsAreRefusedNamingBoth() throws IOException {
        Path file = craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
        assertThatThrownBy(() -> SafetensorsFile.open(file)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("'a'").hasMessageContaining("'b'").hasMessageContaining("overlap");
    }

    @Test
    void outOfBoundsOffsetsAreRefused() throws IOException {
        Path file = craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,1000000000016]}}", 16);
        assertThatThrownBy(() -> SafetensorsFile.open(file)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("tensor 'w'").hasMessageContaining("run past the end");
        Path reversed = craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 16);
        assertThatThrownBy(() -> SafetensorsFile.open(reversed)).hasMessageContaining("end before they begin");
        Path negative = craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 16);
        assertThatThrownBy(() -> SafetensorsFile.open(negative)).hasMessageContaining("not non-negative integers");
    }

    @Test
    void shapeTimesDtypeMustMatchTheByteSpan() throws IOException {
        Path file = craft("{\"w\":{\"dtype\":\"F16\",\"shape\":[3,2],\"data_offsets\":[0,16]}}", 16);
        assertThatThrownBy(() -> SafetensorsFile.open(file)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("tensor 'w'")
                .hasMessageContaining("needs 12 bytes").hasMessageContaining("span 16");
    }

    @Test
    void absurdShapesAreRefusedBeforeAnyAllocation() throws IOException {
        Path overflow = craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,16]}}", 16);
        assertThatThrownBy(() -> SafetensorsFile.open(overflow)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("tensor 'w'").hasMessageContaining("64 bits");
        Path huge = craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999999],\"data_offsets\":[0,16]}}", 16);
        assertThatThrownBy(() -> SafetensorsFile.open(huge)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("tensor 'w'");
    }

    @Test
    void unknownDtypeIsRefusedListingTheKnownOnes() throws IOException {
        Path file = craft("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4);
        assertThatThrownBy(() -> SafetensorsFile.open(file)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("tensor 'w'").hasMessageContaining("unknown dtype 'F8_E4M3'").hasMessageContaining("BF16");
    }

    @Test
    void duplicateTensorNamesAreRefused() throws IOException {
        Path file = craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8);
        assertThatThrownBy(() -> SafetensorsFile.open(file)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("twice").hasMessageContaining("'w'");
    }

    @Test
    void notJsonIsAClearError() throws IOException {
        Path file = craft("{\"w\": [", 0);
        assertThatThrownBy(() -> SafetensorsFile.open(file)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("not valid JSON");
        Path array = craft("[1,2]", 0);
        assertThatThrownBy(() -> SafetensorsFile.open(array)).hasMessageContaining("not a JSON object");
    }

    @Test
    void pickleWeightsAreRefusedWithAConversionHint() throws IOException {
        Path bin = dir.resolve("pytorch_model.bin");
        Files.write(bin, new byte[] {(byte) 0x80, 2});
        assertThatThrownBy(() -> SafetensorsFile.open(bin)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("pickle").hasMessageContaining("safe_serialization=True");
        assertThatThrownBy(() -> SafetensorsShards.open(dir)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("pytorch_model.bin").hasMessageContaining("convert");
    }

    @Test
    void randomCorruptionIsAlwaysACleanErrorOrACleanRead() throws IOException {
        Random rnd = new Random();
        long seed = rnd.nextLong();
        rnd.setSeed(seed);
        Path good = dir.resolve("good.safetensors");
        new SafetensorsWriter().metadata("k", "v")
                .addFloats("a", new long[] {2, 3}, new float[6], Dtype.BF16)
                .addFloats("b", new long[] {5}, new float[5])
                .write(good);
        byte[] original = Files.readAllBytes(good);
        for (int trial = 0; trial < 300; trial++) {
            byte[] bytes = original.clone();
            int mode = rnd.nextInt(3);
            if (mode == 0) {
                bytes = java.util.Arrays.copyOf(bytes, rnd.nextInt(bytes.length));
            } else {
                int flips = 1 + rnd.nextInt(4);
                for (int i = 0; i < flips; i++) {
                    int at = mode == 1 ? rnd.nextInt(Math.min(bytes.length, 8 + 120)) : rnd.nextInt(bytes.length);
                    bytes[at] = (byte) rnd.nextInt(256);
                }
            }
            Path p = dir.resolve("fuzz.safetensors");
            Files.write(p, bytes);
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                for (TensorInfo t : f.tensors()) {
                    if (t.dtype().isFloat() && t.elementCount() < 1_000_000) f.readFloats(t.name());
                }
            } catch (SafetensorsException expected) {
                assertThat(expected.getMessage()).as("seed %d trial %d", seed, trial).contains(p.toString());
            }
        }
    }

    @Test
    void tensorsPastTwoGigabytesReadThroughSeveralMappings() throws IOException {
        // A sparse file: 2^31 + 64 bytes of holes, then a tensor straddling the 2 GiB boundary.
        long filler = (1L << 31) - 8;
        String header = "{\"filler\":{\"dtype\":\"U8\",\"shape\":[" + filler + "],\"data_offsets\":[0," + filler + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[" + filler + "," + (filler + 16) + "]}}";
        byte[] json = padded(header);
        Path file = dir.resolve("big.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
            raf.write(json);
            long dataStart = 8 + json.length;
            raf.seek(dataStart + filler);
            ByteBuffer tail = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            tail.putFloat(1.5f).putFloat(-2f).putFloat(3f).putFloat(4.25f);
            raf.write(tail.array());
        }
        try (SafetensorsFile f = SafetensorsFile.open(file); NDManager m = NDManager.newBaseManager()) {
            assertThat(f.readFloats("tail")).containsExactly(1.5f, -2f, 3f, 4.25f);
            assertThat(f.toNDArray(m, "tail").toFloatArray()).containsExactly(1.5f, -2f, 3f, 4.25f);
            assertThat(f.info("filler").byteLength()).isGreaterThan(Integer.MAX_VALUE - 16L);
            assertThatThrownBy(() -> f.readBytes("filler")).isInstanceOf(SafetensorsException.class).hasMessageContaining("too large");
        } finally {
            Files.delete(file);
        }
    }

    private Path craft(String headerJson, int dataBytes) throws IOException {
        byte[] json = padded(headerJson);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        Path p = Files.createTempFile(dir, "crafted", ".safetensors");
        Files.write(p, b.array());
        return p;
    }

    private static byte[] padded(String json) {
        StringBuilder sb = new StringBuilder(json);
        while (sb.length() % 8 != 0) sb.append(' ');
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }
}
