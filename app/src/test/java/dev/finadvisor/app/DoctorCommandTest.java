package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DoctorCommandTest {
    @Test
    void saysWhichLibtorchNativesTheBuildCarriesAndForWhichPlatform() {
        assertThat(DoctorCommand.nativeLibrary()).startsWith("pytorch-native-cpu-").contains(".jar on ").endsWith(System.getProperty("os.arch"));
        MainTest.Result r = MainTest.run("doctor", "--no-engine");
        assertThat(r.code()).isZero();
        assertThat(r.out()).containsPattern("native +pytorch-native-cpu-[0-9.]+-[a-z0-9_-]+\\.jar on ");
    }

    @Test
    void anAmdCpuWithoutTheMklShimIsToldTheCostAndTheCure() {
        assertThat(DoctorCommand.mklShim(null, true)).contains("without the MKL vendor shim").contains("2.2x").contains("cc");
        assertThat(DoctorCommand.mklShim("/usr/lib/libjemalloc.so.2", true)).contains("without the MKL vendor shim");
        assertThat(DoctorCommand.mklShim("/w/app/target/native/libfinadvisor-mkl-amd.so:/usr/lib/libjemalloc.so.2", true)).contains("shim preloaded");
        assertThat(DoctorCommand.mklShim(null, false)).as("not an AMD CPU: nothing to say").isEmpty();
    }
}
