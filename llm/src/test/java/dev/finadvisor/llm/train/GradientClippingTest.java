package dev.finadvisor.llm.train;

import static dev.finadvisor.llm.train.TorchReference.floats;
import static dev.finadvisor.llm.train.TorchReference.shape;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GradientClippingTest {
    private static final JsonNode REF = TorchReference.load().get("clip_grad_norm");

    @Test
    void clipsByTheGlobalNormAsTorchClipGradNormDoes() {
        for (String name : List.of("clipped", "unclipped")) {
            JsonNode c = REF.get(name);
            try (NDManager m = NDManager.newBaseManager()) {
                List<NDArray> params = new ArrayList<>();
                List<float[]> grads = new ArrayList<>();
                for (int i = 0; i < REF.get("shapes").size(); i++) {
                    NDArray p = m.zeros(new Shape(shape(REF.get("shapes").get(i))));
                    p.setRequiresGradient(true);
                    params.add(p);
                    grads.add(floats(c.get("grads").get(i)));
                }
                AdamWTest.setGradients(params, grads);
                double norm = GradientClipping.clip(params, c.get("max_norm").asDouble(), m);
                assertThat(norm).as(name).isCloseTo(c.get("total_norm").asDouble(), within(1e-5));
                for (int i = 0; i < params.size(); i++) {
                    try (NDArray g = params.get(i).getGradient()) {
                        float[] expected = floats(c.get("clipped").get(i));
                        float[] actual = g.toFloatArray();
                        for (int j = 0; j < expected.length; j++) {
                            assertThat(actual[j]).as("%s grad %d[%d]", name, i, j).isCloseTo(expected[j], within(1e-6f));
                        }
                    }
                }
            }
        }
    }

    @Test
    void aGlobalNormUnderTheLimitLeavesGradientsUntouchedAndZeroingClearsThem() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray p = m.zeros(new Shape(2));
            p.setRequiresGradient(true);
            AdamWTest.setGradients(List.of(p), List.of(new float[] {3f, 4f}));
            assertThat(GradientClipping.clip(List.of(p), 10, m)).isCloseTo(5.0, within(1e-9));
            try (NDArray g = p.getGradient()) {
                assertThat(g.toFloatArray()).containsExactly(3f, 4f);
            }
            assertThat(GradientClipping.clip(List.of(p), 1, m)).isCloseTo(5.0, within(1e-9));
            try (NDArray g = p.getGradient()) {
                float[] clipped = g.toFloatArray();
                assertThat(clipped[0]).isCloseTo(0.6f, within(1e-6f));
                assertThat(clipped[1]).isCloseTo(0.8f, within(1e-6f));
            }
            GradientClipping.zeroGradients(List.of(p));
            try (NDArray g = p.getGradient()) {
                assertThat(g.toFloatArray()).containsExactly(0f, 0f);
            }
        }
    }
}
