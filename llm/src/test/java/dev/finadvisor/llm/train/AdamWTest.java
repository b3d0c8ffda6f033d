package dev.finadvisor.llm.train;

import static dev.finadvisor.llm.train.TorchReference.floats;
import static dev.finadvisor.llm.train.TorchReference.shape;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdamWTest {
    private static final JsonNode REF = TorchReference.load().get("adamw");

    /** Sets p's gradient to exactly {@code g} by back-propagating sum(p * g). */
    static void setGradients(List<NDArray> params, List<float[]> grads) {
        try (NDManager scope = params.get(0).getManager().newSubManager();
             GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            for (NDArray p : params) {
                try (NDArray old = p.getGradient()) {
                    old.subi(old);
                }
            }
            NDArray total = null;
            for (int i = 0; i < params.size(); i++) {
                NDArray g = scope.create(grads.get(i), params.get(i).getShape());
                NDArray term = params.get(i).mul(g).sum();
                term.attach(scope);
                total = total == null ? term : total.add(term);
            }
            gc.backward(total);
        }
    }

    @Test
    void matchesTorchAdamWStepForStepWithChangingLearningRate() {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> params = new LinkedHashMap<>();
            for (int i = 0; i < REF.get("shapes").size(); i++) {
                NDArray p = m.create(floats(REF.get("start").get(i)), new Shape(shape(REF.get("shapes").get(i))));
                p.setRequiresGradient(true);
                params.put("p" + i, p);
            }
            AdamW.Hyper hyper = new AdamW.Hyper(REF.get("beta1").asDouble(), REF.get("beta2").asDouble(),
                    REF.get("eps").asDouble(), REF.get("weight_decay").asDouble());
            try (AdamW adamw = new AdamW(params, hyper, m)) {
                List<NDArray> list = List.copyOf(params.values());
                for (int step = 0; step < REF.get("lrs").size(); step++) {
                    JsonNode grads = REF.get("grads").get(step);
                    List<float[]> given = new ArrayList<>();
                    for (JsonNode g : grads) given.add(floats(g));
                    setGradients(list, given);
                    adamw.step(REF.get("lrs").get(step).asDouble());
                    for (int i = 0; i < list.size(); i++) {
                        float[] expected = floats(REF.get("after").get(step).get(i));
                        float[] actual = list.get(i).toFloatArray();
                        for (int j = 0; j < expected.length; j++) {
                            // same fp32 operations in the same order: agreement to a few ulps
                            assertThat(actual[j]).as("step %d param %d[%d]", step, i, j)
                                    .isCloseTo(expected[j], within(2e-7f * Math.max(1f, Math.abs(expected[j]))));
                        }
                    }
                }
                assertThat(adamw.steps()).isEqualTo(6);
            }
        }
    }

    @Test
    void restoredStateContinuesExactlyAsTheOriginal() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(new float[] {0.5f, -1f, 2f});
            NDArray b = m.create(new float[] {0.5f, -1f, 2f});
            a.setRequiresGradient(true);
            b.setRequiresGradient(true);
            AdamW.Hyper hyper = new AdamW.Hyper(0.9, 0.99, 1e-8, 0.1);
            try (AdamW first = new AdamW(Map.of("w", a), hyper, m)) {
                setGradients(List.of(a), List.of(new float[] {1f, 2f, -3f}));
                first.step(0.01);
                setGradients(List.of(a), List.of(new float[] {0.5f, -2f, 1f}));
                first.step(0.01);
                // the second optimizer starts from the first's saved state after one step
                try (AdamW second = new AdamW(Map.of("w", b), hyper, m)) {
                    setGradients(List.of(b), List.of(new float[] {1f, 2f, -3f}));
                    second.step(0.01);
                    Map<String, float[]> saved = new LinkedHashMap<>();
                    second.state().forEach((k, v) -> saved.put(k, v.toFloatArray()));
                    try (AdamW resumed = new AdamW(Map.of("w", b), hyper, m)) {
                        resumed.load(saved, second.steps());
                        setGradients(List.of(b), List.of(new float[] {0.5f, -2f, 1f}));
                        resumed.step(0.01);
                        assertThat(b.toFloatArray()).containsExactly(a.toFloatArray());
                    }
                }
            }
        }
    }
}
