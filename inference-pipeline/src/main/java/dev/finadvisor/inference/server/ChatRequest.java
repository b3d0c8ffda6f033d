package dev.finadvisor.inference.server;

import dev.finadvisor.inference.AdviceRequest;

/** An OpenAI chat-completions request mapped onto an advice request. */
record ChatRequest(String model, AdviceRequest advice, boolean stream, boolean includeUsage) {}
