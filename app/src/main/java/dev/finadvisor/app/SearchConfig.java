package dev.finadvisor.app;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.finadvisor.domain.config.Problems;
import dev.finadvisor.domain.config.Validated;
import dev.finadvisor.retrieval.StoreConfig;

/** Configuration of the {@code search} command: just the {@code store:} section. */
record SearchConfig(StoreConfig store) implements Validated {
    @JsonCreator
    static SearchConfig of(@JsonProperty("store") StoreConfig store) {
        return new SearchConfig(store == null ? StoreConfig.DEFAULT : store);
    }

    @Override
    public void validate(Problems problems) {
        problems.nested("store", store);
    }
}
