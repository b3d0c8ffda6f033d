package dev.finadvisor.llm.model;

/**
 * What each decoder projection becomes as the checkpoint is read, before the next one is read: a
 * quantiser (QLoRA's NF4) replaces the fp32 layer, whose weight is then freed, so the fp32 model is
 * never whole in memory. The output head is never passed through it (QLoRA keeps it in full precision).
 */
@FunctionalInterface
public interface ProjectionLoader {
    /** Keeps every projection as loaded, in fp32. */
    ProjectionLoader DENSE = (path, loaded) -> loaded;

    /**
     * The layer to use at {@code path} for the projection just read. Any loader but {@link #DENSE} must return a new
     * layer: {@code loaded}'s weight is closed after this returns and its memory reused for the next projection.
     */
    Linear load(String path, DenseLinear loaded);
}
