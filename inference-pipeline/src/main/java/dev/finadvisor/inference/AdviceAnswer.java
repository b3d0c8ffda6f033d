package dev.finadvisor.inference;

import java.util.List;

/** The advisor's reply: the answer, the news it cites, token usage, timings and the request id. */
public record AdviceAnswer(String answer, List<Source> sources, Usage usage, Timings timings, String requestId) {}
