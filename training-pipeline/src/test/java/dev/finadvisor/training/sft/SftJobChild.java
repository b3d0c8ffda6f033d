package dev.finadvisor.training.sft;

import dev.finadvisor.domain.config.ConfigLoader;
import java.util.List;

/** A training process for the kill test: runs an {@link SftJob} with the given {@code key=value} settings until killed. */
public final class SftJobChild {
    public static void main(String[] args) {
        new SftJob(new ConfigLoader().load(SftConfig.class, SftConfig.DEFAULTS, null, List.of(args)), line -> {
            System.out.println(line);
            System.out.flush();
        }).run(null);
    }
}
