package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the real ./finadvisor script with a stand-in java that prints what it was given. */
class LauncherTest {
    @TempDir Path dir;
    Path launcher;
    Path javaHome;

    record Run(int code, String out, String err) {}

    Path root;

    @BeforeEach
    void setUp() throws IOException {
        root = Path.of(System.getProperty("finadvisor.root.dir", ".."));
        launcher = dir.resolve("finadvisor");
        Files.copy(root.resolve("finadvisor"), launcher);
        Files.createDirectories(dir.resolve("native"));
        Files.copy(root.resolve("native/jemalloc.conf"), dir.resolve("native/jemalloc.conf"));
        Files.createDirectories(dir.resolve("app/target"));
        Files.writeString(dir.resolve("app/target/finadvisor.jar"), "not a real jar");
        javaHome = dir.resolve("jdk");
        Files.createDirectories(javaHome.resolve("bin"));
        Path java = javaHome.resolve("bin/java");
        Files.writeString(java, "#!/bin/sh\necho \"LD_PRELOAD=$LD_PRELOAD\"\necho \"MALLOC_CONF=$MALLOC_CONF\"\necho \"DJL_OFFLINE=$DJL_OFFLINE\"\n"
                + "echo \"OPT_OUT_TRACKING=$OPT_OUT_TRACKING\"\nfor a in \"$@\"; do echo \"ARG=$a\"; done\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    Run launch(Map<String, String> env, String... args) throws Exception {
        ProcessBuilder pb = new ProcessBuilder();
        pb.command().addAll(List.of("bash", launcher.toString()));
        pb.command().addAll(List.of(args));
        pb.environment().keySet().removeIf(k -> k.startsWith("FINADVISOR_") || k.equals("LD_PRELOAD")
                || k.equals("DJL_OFFLINE") || k.equals("OPT_OUT_TRACKING") || k.equals("MALLOC_CONF"));
        pb.environment().put("JAVA_HOME", javaHome.toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(p.waitFor(), out, err);
    }

    @Test
    void preloadsJemallocWhenPresent() throws Exception {
        Path lib = dir.resolve("libjemalloc.so.2");
        Files.writeString(lib, "");
        Run r = launch(Map.of("FINADVISOR_JEMALLOC", lib.toString()), "doctor");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("LD_PRELOAD=" + lib).contains("MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1,lg_extent_max_active_fit:16");
        Run own = launch(Map.of("FINADVISOR_JEMALLOC", lib.toString(), "MALLOC_CONF", "narenas:2"), "doctor");
        assertThat(own.out()).contains("MALLOC_CONF=narenas:2\n");
    }

    @Test
    void autoModeUsesDebiansJemallocOnlyIfInstalled() throws Exception {
        Path debian = Path.of("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2");
        Run r = launch(Map.of());
        assertThat(r.code()).isZero();
        if (Files.exists(debian)) {
            assertThat(r.out()).contains("LD_PRELOAD=" + debian);
        } else {
            assertThat(r.out()).contains("LD_PRELOAD=\n");
        }
    }

    @Test
    void onAmdCpusPreloadsTheMklVendorShimBuiltFromItsSource() throws Exception {
        Files.createDirectories(dir.resolve("native"));
        for (String f : List.of("mkl-amd.c", "mkl-amd.sh")) Files.copy(root.resolve("native").resolve(f), dir.resolve("native").resolve(f));
        Files.setPosixFilePermissions(dir.resolve("native/mkl-amd.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
        boolean amd = Files.readString(Path.of("/proc/cpuinfo")).contains("AuthenticAMD");
        boolean cc = Files.isExecutable(Path.of("/usr/bin/cc")) || Files.isExecutable(Path.of("/usr/bin/gcc"));
        Path shim = dir.resolve("app/target/native/libfinadvisor-mkl-amd.so");
        Run r = launch(Map.of("FINADVISOR_JEMALLOC", "off"));
        assertThat(r.code()).isZero();
        if (amd && cc) {
            assertThat(r.out()).contains("LD_PRELOAD=" + shim + "\n");
            assertThat(shim).isRegularFile();
        } else {
            assertThat(r.out()).contains("LD_PRELOAD=\n");
        }
        assertThat(launch(Map.of("FINADVISOR_JEMALLOC", "off", "FINADVISOR_MKL_AMD", "off")).out()).contains("LD_PRELOAD=\n");
        Run bad = launch(Map.of("FINADVISOR_MKL_AMD", "yes"));
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("FINADVISOR_MKL_AMD=yes");
    }

    @Test
    void runsWithoutJemallocWhenOffOrAbsent() throws Exception {
        Run r = launch(Map.of("FINADVISOR_JEMALLOC", "off"));
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("LD_PRELOAD=\n").contains("MALLOC_CONF=\n");
        Run missing = launch(Map.of("FINADVISOR_JEMALLOC", dir.resolve("nope.so").toString()));
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("FINADVISOR_JEMALLOC=").contains("no such file");
    }

    @Test
    void keepsDjlOfflineAndTelemetryOffUnlessAsked() throws Exception {
        Run r = launch(Map.of("FINADVISOR_JEMALLOC", "off"));
        assertThat(r.out()).contains("DJL_OFFLINE=true").contains("OPT_OUT_TRACKING=true").contains("ARG=-Dai.djl.offline=true");
        Run online = launch(Map.of("FINADVISOR_JEMALLOC", "off", "DJL_OFFLINE", "false"));
        assertThat(online.out()).contains("DJL_OFFLINE=false").contains("ARG=-Dai.djl.offline=false");
    }

    @Test
    void passesJavaOptionsAndArgumentsThrough() throws Exception {
        Run r = launch(Map.of("FINADVISOR_JEMALLOC", "off", "FINADVISOR_JAVA_OPTS", "-Xmx3g -Dfoo=bar"),
                "generate", "--prompt", "two words");
        List<String> args = r.out().lines().filter(l -> l.startsWith("ARG=")).map(l -> l.substring(4)).toList();
        // the launcher's own JVM defaults first, so the user's options (later on the line) win
        assertThat(args.subList(0, 6)).containsExactly("--add-modules", "jdk.incubator.vector", "-XX:MaxRAMPercentage=75",
                "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0", "-XX:MaxHeapFreeRatio=30", "-XX:MinHeapFreeRatio=10");
        assertThat(args.get(6)).matches("-XX:MaxDirectMemorySize=\\d+k");
        assertThat(args.subList(7, args.size())).containsExactly("-Xmx3g", "-Dfoo=bar", "-Dai.djl.offline=true", "-jar",
                dir.resolve("app/target/finadvisor.jar").toString(), "generate", "--prompt", "two words");

        // a user's heap-ratio option replaces both of the launcher's (Min above the launcher's Max would not start)
        Run own = launch(Map.of("FINADVISOR_JEMALLOC", "off", "FINADVISOR_JAVA_OPTS", "-XX:MinHeapFreeRatio=40"), "--version");
        assertThat(own.out()).contains("ARG=-XX:MinHeapFreeRatio=40").doesNotContain("HeapFreeRatio=30").doesNotContain("HeapFreeRatio=10");
    }

    @Test
    void onATerminalDropsOnlyTheJvmsIncubatorWarningFromStderr() throws Exception {
        // the real JVM, given the launcher's options and a jar whose main class writes one line to stderr
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, StderrMain.class.getName());
        String entry = StderrMain.class.getName().replace('.', '/') + ".class";
        try (var jar = new JarOutputStream(Files.newOutputStream(dir.resolve("app/target/finadvisor.jar")), manifest);
                var bytes = StderrMain.class.getResourceAsStream("/" + entry)) {
            jar.putNextEntry(new JarEntry(entry));
            bytes.transferTo(jar);
        }
        Map<String, String> realJava = Map.of("FINADVISOR_JEMALLOC", "off", "JAVA_HOME", System.getProperty("java.home"));
        Run onTerminal = launchOnTerminal(realJava);
        assertThat(onTerminal.code()).isEqualTo(4);
        assertThat(onTerminal.out()).isEqualTo("from main\n");
        // redirected (a file, a pipe, a log): the JVM's stderr as it is, byte for byte
        Run redirected = launch(realJava);
        assertThat(redirected.code()).isEqualTo(4);
        assertThat(redirected.err()).isEqualTo("WARNING: Using incubator modules: jdk.incubator.vector\nfrom main\n");

        // on a terminal everything else passes through: other lines, the JVM's "Picked up" notes before the warning, a
        // last line without its newline; and the exit code
        // (the stand-in takes a moment to exit, as a JVM does after its last line: script ends the terminal's session when
        // the launcher's process ends)
        Files.writeString(javaHome.resolve("bin/java"), "#!/bin/sh\nprintf '%b' \"$STANDIN_ERR\" >&2\nsleep 0.2\nexit 3\n");
        String warning = "WARNING: Using incubator modules: jdk.incubator.vector\n";
        for (String err : List.of("", "half a line", "one line\n", "WARNING: something else\nsecond\n", "first\n" + warning + "last")) {
            if (!err.equals("half a line")) { // (a first line is whole before the filter knows it is not the warning)
                Run r = launchOnTerminal(Map.of("FINADVISOR_JEMALLOC", "off", "STANDIN_ERR", err));
                assertThat(r.code()).isEqualTo(3);
                assertThat(r.out()).as(err).isEqualTo(err);
            }
            assertThat(launchOnTerminal(Map.of("FINADVISOR_JEMALLOC", "off", "STANDIN_ERR", warning + err)).out()).as(err).isEqualTo(err);
            String pickedUp = "Picked up JAVA_TOOL_OPTIONS: -Dx=1\n";
            assertThat(launchOnTerminal(Map.of("FINADVISOR_JEMALLOC", "off", "STANDIN_ERR", pickedUp + warning + err)).out())
                    .as(err).isEqualTo(pickedUp + err);
        }
    }

    /** The launcher on a terminal (util-linux's script gives it one): what the terminal shows, line ends as written. */
    Run launchOnTerminal(Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("script", "-qec", "bash '" + launcher + "'", "/dev/null");
        pb.environment().keySet().removeIf(k -> k.startsWith("FINADVISOR_") || k.equals("LD_PRELOAD")
                || k.equals("DJL_OFFLINE") || k.equals("OPT_OUT_TRACKING") || k.equals("MALLOC_CONF"));
        pb.environment().put("JAVA_HOME", javaHome.toString());
        pb.environment().putAll(env);
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        String shown = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).replace("\r\n", "\n");
        return new Run(p.waitFor(), shown, new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    /** The main class of the jar {@link #onATerminalDropsOnlyTheJvmsIncubatorWarningFromStderr} runs on the real JVM. */
    public static class StderrMain {
        public static void main(String[] args) {
            System.err.println("from main");
            System.exit(4);
        }
    }

    @Test
    void missingJarSaysHowToBuildIt() throws Exception {
        Files.delete(dir.resolve("app/target/finadvisor.jar"));
        Run r = launch(Map.of());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("mvn -q -DskipTests package");
    }
}
