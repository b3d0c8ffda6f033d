package dev.finadvisor.llm.quant;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.finadvisor.llm.LanguageModel;
import dev.finadvisor.llm.RandomCheckpoint;
import dev.finadvisor.llm.model.DenseLinear;
import dev.finadvisor.llm.lowbit.WeightFormat;
import dev.finadvisor.llm.model.PackedLinear;
import dev.finadvisor.llm.model.Linear;
import dev.finadvisor.llm.model.ProjectionLoader;
import dev.finadvisor.llm.safetensors.Dtype;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class Nf4WhileLoadingTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama-bf16", "llama3", "falcon", "falcon-seq"})
    void quantisingWhileLoadingEqualsQuantisingTheLoadedModelWithoutHoldingItInFp32(String family) throws IOException {
        RandomCheckpoint checkpoint = family.equals("llama-bf16") // as most hub checkpoints ship: read into fp32 on the way
                ? new RandomCheckpoint("LlamaForCausalLM", 64, 96, 2, 4, 2, 384, 256, false, Map.of(), Dtype.BF16, 0.08, 1)
                : RandomCheckpoint.tiny(family);
        Path ckpt = checkpoint.write(dir.resolve(family));
        long[] ids = {3, 17, 250, 9, 101, 42, 7};
        float[] expected;
        Nf4Quantizer.Report afterLoading;
        try (LanguageModel model = LanguageModel.load(ckpt); NDManager manager = NDManager.newBaseManager(); Nf4 nf4 = new Nf4(manager)) {
            afterLoading = Nf4Quantizer.quantize(model.model(), nf4);
            expected = logits(model, ids);
        }
        try (NDManager manager = NDManager.newBaseManager(); Nf4 nf4 = new Nf4(manager)) {
            ProjectionLoader quantizer = Nf4Quantizer.whileLoading(nf4);
            List<DenseLinear> seen = new ArrayList<>();
            List<String> paths = new ArrayList<>();
            try (LanguageModel model = LanguageModel.load(ckpt, (path, loaded) -> {
                // the projection read before this one is already freed: one fp32 projection at a time
                if (!seen.isEmpty()) assertThat(seen.get(seen.size() - 1).weight().isReleased()).as(paths.get(paths.size() - 1)).isTrue();
                seen.add(loaded);
                paths.add(path);
                return quantizer.load(path, loaded);
            })) {
                assertThat(Nf4Quantizer.Report.of(model.model())).isEqualTo(afterLoading);
                assertThat(seen.get(seen.size() - 1).weight().isReleased()).isTrue();
                assertThat(paths).doesNotContain("lm_head").hasSize(afterLoading.layers());
                for (String path : paths) {
                    assertThat(model.model().linears().get(path)).isInstanceOf(Nf4Linear.class);
                    assertThat(model.model().parameters()).doesNotContainKey(path + ".weight");
                }
                Linear head = model.model().linears().get("lm_head");
                // not quantised, as bitsandbytes keeps it: in the checkpoint's precision, a 16-bit one held as it is
                if (checkpoint.dtype() == Dtype.F32) {
                    assertThat(head).isInstanceOf(DenseLinear.class);
                    assertThat(((DenseLinear) head).weight().isReleased()).isFalse();
                } else {
                    assertThat(head).isInstanceOf(PackedLinear.class);
                    assertThat(((PackedLinear) head).weight().format()).isEqualTo(WeightFormat.BF16);
                    // the embedding too: no matrix is an fp32 engine tensor
                    assertThat(model.model().parameters().values()).allMatch(p -> p.getShape().dimension() == 1);
                }
                // widening bf16 is exact: the same logits as the tables read into fp32
                assertThat(logits(model, ids)).containsExactly(expected);
            }
        }
    }

    private static float[] logits(LanguageModel model, long[] ids) {
        try (NDManager step = NDManager.newBaseManager()) {
            return model.model().forward(step.create(ids, new Shape(1, ids.length)), null, false).toFloatArray();
        }
    }
}
