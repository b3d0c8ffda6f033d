package dev.finadvisor.app;

import dev.finadvisor.domain.runs.Registry;
import dev.finadvisor.llm.hub.ModelLocator;
import dev.finadvisor.llm.lora.AdapterMerge;
import dev.finadvisor.llm.lora.PeftAdapter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Merges a LoRA adapter into its base checkpoint, producing a plain Hugging Face checkpoint. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Merge a PEFT LoRA adapter into its base model: writes a full Hugging Face checkpoint (safetensors) that loads without PEFT.")
final class ExportCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "PATH_OR_ID",
            description = "The base model: a checkpoint folder (config.json, *.safetensors) or a Hugging Face hub id org/name[@revision] (downloaded once into the cache, as generate does).")
    String model;

    @Option(names = "--adapter", required = true, paramLabel = "DIR|registry:NAME@ALIAS|registry:NAME:VERSION",
            description = "The adapter folder (adapter_config.json, adapter_model.safetensors), e.g. RUN_DIR/adapter, or a registered version: registry:NAME@ALIAS or registry:NAME:VERSION (looked up in --registry).")
    String adapter;

    @Mixin
    RegistryCommand.RegistryDir registry;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder to create for the merged checkpoint; must not exist.")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Path base = ModelLocator.fromEnvironment().resolve(model);
        Path adapterDir = Registry.adapterFolder(adapter, registry.dir);
        PeftAdapter peft = PeftAdapter.read(adapterDir);
        int merged = AdapterMerge.merge(base, peft, out);
        spec.commandLine().getOut().printf("merged %d LoRA modules (r=%d, scale %.4g)%s into %s%n",
                merged, peft.config().r(), peft.config().scale(), adapterDir.toString().equals(adapter) ? "" : " of " + adapter + " (" + adapterDir + ")", out);
        return 0;
    }
}
