package dev.finadvisor.llm.lowbit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.safetensors.SafetensorsShards;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryCheckTest {
    @TempDir Path dir;

    @Test
    void weightsAreCountedInTheirFormatFromTheHeader() throws Exception {
        Path ckpt = RandomCheckpoint.tiny("llama").write(dir.resolve("llama"));
        try (SafetensorsShards w = SafetensorsShards.open(ckpt)) {
            long fp32 = 0;
            long vectors = 0;
            for (String n : w.names()) {
                fp32 += 4 * w.info(n).elementCount();
                if (w.info(n).shape().length == 1) vectors += 4 * w.info(n).elementCount();
            }
            assertThat(MemoryCheck.weightBytes(w, WeightFormat.FP32)).isEqualTo(fp32);
            // every matrix of this model is a whole number of groups but down_proj (in 96: padded to 128)
            long matrices = fp32 - vectors;
            assertThat(MemoryCheck.weightBytes(w, WeightFormat.BF16)).isBetween(vectors + matrices / 2, vectors + matrices * 2 / 3);
            assertThat(MemoryCheck.weightBytes(w, WeightFormat.NF4)).isLessThan(MemoryCheck.weightBytes(w, WeightFormat.INT8))
                    .isGreaterThan(vectors + matrices * 9 / 64);
        }
    }

    @Test
    void aModelThatCannotFitIsRefusedBeforeLoadingWithTheOtherFormatsSizes() throws Exception {
        Path ckpt = RandomCheckpoint.tiny("llama").write(dir.resolve("llama"));
        try (SafetensorsShards w = SafetensorsShards.open(ckpt)) {
            long fp32 = MemoryCheck.weightBytes(w, WeightFormat.FP32);
            assertThatThrownBy(() -> MemoryCheck.check(ckpt, w, WeightFormat.FP32, fp32, Long.MAX_VALUE, Long.MAX_VALUE))
                    .isInstanceOf(UserError.class)
                    .hasMessageContaining("as fp32, more than the")
                    .hasMessageContaining("of memory this machine has available")
                    .hasMessageContaining("(--weights bf16)").hasMessageContaining("(--weights nf4)");
            assertThatThrownBy(() -> MemoryCheck.check(ckpt, w, WeightFormat.NF4, Long.MAX_VALUE, 1000, Long.MAX_VALUE))
                    .isInstanceOf(UserError.class)
                    .hasMessageContaining("of heap")
                    .hasMessageContaining("FINADVISOR_JAVA_OPTS=\"-Xmx1g\"");
            assertThatThrownBy(() -> MemoryCheck.check(ckpt, w, WeightFormat.FP32, Long.MAX_VALUE, Long.MAX_VALUE, 1000))
                    .isInstanceOf(UserError.class)
                    .hasMessageContaining("of direct memory")
                    .hasMessageContaining("FINADVISOR_JAVA_OPTS=\"-XX:MaxDirectMemorySize=1g\"");
            assertThatCode(() -> MemoryCheck.check(ckpt, w, WeightFormat.FP32, fp32 + MemoryCheck.OVERHEAD, 0, fp32)).doesNotThrowAnyException();
        }
    }
}
