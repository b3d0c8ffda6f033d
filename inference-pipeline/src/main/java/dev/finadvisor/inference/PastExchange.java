package dev.finadvisor.inference;

/** One earlier question and the advisor's answer to it, sent back by the client as history. */
public record PastExchange(String question, String answer) {}
