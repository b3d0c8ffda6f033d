package dev.finadvisor.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.finadvisor.llm.train.LrSchedule.Kind;
import org.junit.jupiter.api.Test;

/** Values worked out from Transformers' optimization.py lambdas (LambdaLR: the k-th update uses lambda(k)). */
class LrScheduleTest {
    @Test
    void warmupStepsFollowTrainingArguments() {
        assertThat(LrSchedule.warmupSteps(0, 0.03, 100)).isEqualTo(3);
        assertThat(LrSchedule.warmupSteps(0, 0.03, 101)).isEqualTo(4); // ceil(3.03)
        assertThat(LrSchedule.warmupSteps(5, 0.5, 100)).isEqualTo(5); // explicit steps win over the ratio
        assertThat(LrSchedule.warmupSteps(0, 0.0, 100)).isZero();
    }

    @Test
    void constantIgnoresWarmupAsTransformersDoes() {
        LrSchedule s = new LrSchedule(Kind.CONSTANT, 2e-4, 3, 100);
        assertThat(s.at(0)).isEqualTo(2e-4);
        assertThat(s.at(99)).isEqualTo(2e-4);
    }

    @Test
    void constantWithWarmupRampsFromZero() {
        LrSchedule s = new LrSchedule(Kind.CONSTANT_WITH_WARMUP, 1.0, 4, 10);
        assertThat(new double[] {s.at(0), s.at(1), s.at(2), s.at(3), s.at(4), s.at(9)})
                .containsExactly(0.0, 0.25, 0.5, 0.75, 1.0, 1.0);
    }

    @Test
    void linearWarmsUpThenDecaysToZeroAtTheLastStep() {
        LrSchedule s = new LrSchedule(Kind.LINEAR, 1.0, 2, 10);
        assertThat(s.at(0)).isZero();
        assertThat(s.at(1)).isEqualTo(0.5);
        assertThat(s.at(2)).isEqualTo(1.0);
        assertThat(s.at(6)).isEqualTo(0.5); // (10-6)/(10-2)
        assertThat(s.at(10)).isZero();
        assertThat(s.at(12)).isZero();
    }

    @Test
    void cosineFollowsHalfAPeriod() {
        LrSchedule s = new LrSchedule(Kind.COSINE, 1.0, 0, 8);
        assertThat(s.at(0)).isEqualTo(1.0);
        assertThat(s.at(4)).isCloseTo(0.5, within(1e-15));
        assertThat(s.at(2)).isCloseTo(0.5 * (1 + Math.cos(Math.PI / 4)), within(1e-15));
        assertThat(s.at(8)).isCloseTo(0.0, within(1e-15));
        LrSchedule warm = new LrSchedule(Kind.COSINE, 1.0, 2, 10);
        assertThat(warm.at(1)).isEqualTo(0.5);
        assertThat(warm.at(6)).isCloseTo(0.5, within(1e-15));
    }

    @Test
    void namesAreTransformersSchedulerTypes() {
        assertThat(Kind.configNames()).containsExactly("constant", "constant_with_warmup", "linear", "cosine");
        assertThat(Kind.byName("cosine")).isEqualTo(Kind.COSINE);
        assertThatThrownBy(() -> Kind.byName("cosin")).hasMessageContaining("'cosin'").hasMessageContaining("linear");
    }
}
