package dev.finadvisor.llm.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** A model's projections by Hugging Face module path, in model order; replacements must keep the shape. */
final class Linears {
    private final Map<String, Linear> byPath = new LinkedHashMap<>();

    void add(String path, Linear linear) {
        byPath.put(path, linear);
    }

    Linear get(String path) {
        return byPath.get(path);
    }

    void replace(String path, Linear replacement) {
        Linear old = byPath.get(path);
        if (old == null) throw new IllegalArgumentException("no linear at '" + path + "'; known: " + byPath.keySet());
        if (old.inFeatures() != replacement.inFeatures() || old.outFeatures() != replacement.outFeatures()) {
            throw new IllegalArgumentException(path + ": replacement is " + replacement.outFeatures() + "x" + replacement.inFeatures()
                    + ", the original " + old.outFeatures() + "x" + old.inFeatures());
        }
        byPath.put(path, replacement);
    }

    Map<String, Linear> view() {
        return Collections.unmodifiableMap(byPath);
    }
}
