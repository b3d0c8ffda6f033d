package dev.finadvisor.training.tracking;

import java.nio.file.Path;

/**
 * What a training run is started with.
 *
 * @param runsDir    the runs folder (default {@code ./runs}); created if missing
 * @param name       a short name for the run (letters, digits, '.', '_', '-'); the id is {@code yyyyMMdd-HHmmss-NAME}
 * @param config     the resolved configuration (e.g. {@code ConfigLoader.Loaded.tree()}), written as config.yaml
 * @param baseModel  the base checkpoint folder (hashed: a folder's SHA-256 covers every file in it)
 * @param dataset    the training data file or folder (hashed)
 * @param engine     the tensor engine and version, e.g. "PyTorch 2.7.1"
 * @param device     the device trained on, e.g. "cpu()"
 * @param projectDir where to look for the project's git repository (null: the working directory)
 * @param report     whether finishing writes the HTML report with its charts (true by default)
 */
public record RunSpec(Path runsDir, String name, Object config, Path baseModel, Path dataset, String engine, String device,
                      Path projectDir, boolean report) {
    public RunSpec(Path runsDir, String name, Object config, Path baseModel, Path dataset, String engine, String device) {
        this(runsDir, name, config, baseModel, dataset, engine, device, null, true);
    }

    /** The same run without the report at the end (drawing charts costs about a second; tests rarely need it). */
    public RunSpec withoutReport() {
        return new RunSpec(runsDir, name, config, baseModel, dataset, engine, device, projectDir, false);
    }

    public RunSpec withProjectDir(Path dir) {
        return new RunSpec(runsDir, name, config, baseModel, dataset, engine, device, dir, report);
    }
}
