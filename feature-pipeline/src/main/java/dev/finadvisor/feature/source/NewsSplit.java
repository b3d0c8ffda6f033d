package dev.finadvisor.feature.source;

import java.io.Serializable;
import org.apache.flink.api.connector.source.SourceSplit;

/**
 * A unit of news reading with its cursor: what has been emitted so far. Flink checkpoints it, so a
 * restarted job resumes exactly after the last article it had handed on.
 */
public sealed interface NewsSplit extends SourceSplit, Serializable permits ReplaySplit, BackfillSplit, StreamSplit {}
