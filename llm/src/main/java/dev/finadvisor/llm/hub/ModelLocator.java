package dev.finadvisor.llm.hub;

import dev.finadvisor.domain.UserError;
import dev.finadvisor.domain.config.Secret;
import dev.finadvisor.domain.config.Secrets;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a {@code --model} argument into a checkpoint folder: a local folder as is, or a hub id
 * {@code org/name[@revision]} through {@link HubDownloader}'s cache.
 */
public final class ModelLocator {
    private static final Pattern HUB_ID = Pattern.compile("([A-Za-z0-9][A-Za-z0-9._-]*)/([A-Za-z0-9][A-Za-z0-9._-]*)(?:@([A-Za-z0-9._/-]+))?");

    private final HubDownloader hub;

    public ModelLocator(HubDownloader hub) {
        this.hub = hub;
    }

    /**
     * From the environment: {@code HF_ENDPOINT} (default https://huggingface.co), {@code HF_TOKEN},
     * {@code HF_HUB_OFFLINE=1}, and the cache {@code FINADVISOR_MODEL_CACHE}, else
     * {@code $HF_HOME/finadvisor}, else {@code ~/.cache/huggingface/finadvisor}.
     */
    public static ModelLocator fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    static ModelLocator fromEnvironment(Map<String, String> env) {
        Path cache;
        if (env.get("FINADVISOR_MODEL_CACHE") != null) {
            cache = Path.of(env.get("FINADVISOR_MODEL_CACHE"));
        } else if (env.get("HF_HOME") != null) {
            cache = Path.of(env.get("HF_HOME"), "finadvisor");
        } else {
            cache = Path.of(System.getProperty("user.home"), ".cache", "huggingface", "finadvisor");
        }
        URI endpoint = URI.create(env.getOrDefault("HF_ENDPOINT", "https://huggingface.co"));
        Optional<Secret> token = new Secrets(env).get(Secrets.HF_TOKEN);
        String offline = env.getOrDefault("HF_HUB_OFFLINE", "0");
        boolean isOffline = offline.equals("1") || offline.equalsIgnoreCase("true") || offline.equalsIgnoreCase("yes");
        return new ModelLocator(new HubDownloader(endpoint, cache, token, isOffline));
    }

    public Path resolve(String model) {
        return resolve(model, "--model");
    }

    /** {@link #resolve(String)}, naming the setting the value came from ({@code --model}, {@code model.id}) in errors. */
    public Path resolve(String model, String setting) {
        Path local = Path.of(model);
        if (Files.isDirectory(local)) return local;
        Matcher m = hubId(model);
        if (m == null) throw new UserError(setting + " " + model + ": no such folder, and not a hub id of the form org/name[@revision]");
        String revision = m.group(3) == null ? "main" : m.group(3);
        return hub.snapshot(m.group(1) + "/" + m.group(2), revision);
    }

    /**
     * How PEFT's {@code base_model_name_or_path} names the model: the repository {@code org/name} for a hub id,
     * else the folder's absolute path.
     */
    public static String peftName(String model) {
        Matcher m = isHubId(model) ? hubId(model) : null;
        return m != null ? m.group(1) + "/" + m.group(2) : Path.of(model).toAbsolutePath().toString();
    }

    /** True when {@code model} names a hub repository ({@code org/name[@revision]}) rather than an existing folder. */
    public static boolean isHubId(String model) {
        return !Files.isDirectory(Path.of(model)) && hubId(model) != null;
    }

    private static Matcher hubId(String model) {
        Matcher m = HUB_ID.matcher(model);
        return m.matches() && !model.startsWith(".") && !model.startsWith("/") ? m : null;
    }
}
