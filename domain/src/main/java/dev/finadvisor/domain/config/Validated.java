package dev.finadvisor.domain.config;

/** A configuration record that checks its own values after binding (ranges, combinations). */
public interface Validated {
    /** Adds a problem for each value out of range; keys are dotted paths relative to this record. */
    void validate(Problems problems);
}
