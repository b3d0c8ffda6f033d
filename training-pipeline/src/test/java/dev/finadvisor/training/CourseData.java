package dev.finadvisor.training;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the tests find the repository and the course's 125 samples (data/hands-on-llms/, MIT, see its README). */
public final class CourseData {
    private CourseData() {}

    /** The repository root, from the system property finadvisor.root.dir that the root pom gives surefire. */
    public static Path repositoryRoot() {
        String root = System.getProperty("finadvisor.root.dir");
        if (root == null) {
            throw new IllegalStateException("system property finadvisor.root.dir (the repository root) is not set;"
                    + " the root pom's surefire configuration sets it: run the tests with mvn from the repository root");
        }
        return Path.of(root).toAbsolutePath().normalize();
    }

    /** data/hands-on-llms/training_data.json under the repository root. */
    public static Path trainingData() {
        Path file = repositoryRoot().resolve("data/hands-on-llms/training_data.json");
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException(file + " is missing: finadvisor.root.dir=" + System.getProperty("finadvisor.root.dir")
                    + " is not the repository root");
        }
        return file;
    }
}
