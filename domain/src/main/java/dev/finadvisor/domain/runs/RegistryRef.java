package dev.finadvisor.domain.runs;

import dev.finadvisor.domain.UserError;
import java.util.regex.Pattern;

/**
 * A reference to a registered model: {@code registry:NAME@ALIAS} (e.g. {@code registry:fin-advisor@production}),
 * {@code registry:NAME:VERSION} (e.g. {@code registry:fin-advisor:3}) or, where a whole model is meant
 * (registry show), {@code NAME} alone. The {@code registry:} prefix is optional for {@link #parse}.
 * Exactly one of {@code version} and {@code alias} is set, or neither for a bare name.
 */
public record RegistryRef(String name, Integer version, String alias) {
    public static final String PREFIX = "registry:";
    /** Model names: letters, digits, '.', '_', '-', starting with a letter or digit. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    /** Alias names: like model names but starting with a letter (so they never look like a version). */
    public static final Pattern ALIAS = Pattern.compile("[A-Za-z][A-Za-z0-9._-]{0,63}");

    public RegistryRef {
        checkName(name);
        if (version != null && alias != null) throw new IllegalArgumentException("a registry reference has a version or an alias, not both");
        if (version != null && version < 1) throw new UserError("registry version must be 1 or more, got " + version);
        if (alias != null) checkAlias(alias);
    }

    /** Whether {@code argument} names a registry model rather than a folder. */
    public static boolean isRegistryRef(String argument) {
        return argument != null && argument.startsWith(PREFIX);
    }

    /** Parses {@code [registry:]NAME@ALIAS}, {@code [registry:]NAME:VERSION} or {@code [registry:]NAME}. */
    public static RegistryRef parse(String text) {
        if (text == null || text.isBlank()) throw new UserError("empty registry reference; expected registry:NAME@ALIAS or registry:NAME:VERSION");
        String s = isRegistryRef(text) ? text.substring(PREFIX.length()) : text;
        int at = s.indexOf('@');
        int colon = s.indexOf(':');
        if (at >= 0 && colon >= 0) throw new UserError("registry reference '" + text + "': use NAME@ALIAS or NAME:VERSION, not both");
        try {
            if (at >= 0) return new RegistryRef(s.substring(0, at), null, s.substring(at + 1));
            if (colon >= 0) {
                String v = s.substring(colon + 1);
                if (!v.matches("[0-9]{1,9}")) {
                    throw new UserError("registry reference '" + text + "': version '" + v + "' is not a number (use NAME:VERSION, e.g. fin-advisor:3, or NAME@ALIAS)");
                }
                return new RegistryRef(s.substring(0, colon), Integer.parseInt(v), null);
            }
            return new RegistryRef(s, null, null);
        } catch (UserError e) {
            if (e.getMessage().startsWith("registry reference '")) throw e;
            throw new UserError("registry reference '" + text + "': " + e.getMessage());
        }
    }

    /** Whether this names one version (by number or alias) rather than a whole model. */
    public boolean isPinned() {
        return version != null || alias != null;
    }

    public static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new UserError("model name '" + name + "' is not allowed: use letters, digits, '.', '_', '-' (e.g. fin-advisor)");
        }
    }

    public static void checkAlias(String alias) {
        if (alias == null || !ALIAS.matcher(alias).matches()) {
            throw new UserError("alias '" + alias + "' is not allowed: start with a letter, then letters, digits, '.', '_', '-' (e.g. production)");
        }
    }

    @Override
    public String toString() {
        return PREFIX + name + (version != null ? ":" + version : alias != null ? "@" + alias : "");
    }
}
