package dev.finadvisor.inference;

/**
 * One finished generation: the text, token counts, why it stopped ({@code eos|stop|length|cancelled})
 * and where the time went (prefill = reading the prompt; decode = producing tokens).
 */
public record Generation(String text, int promptTokens, int completionTokens, String finishReason,
                         long prefillMs, long decodeMs, long firstTokenMs) {
    public double decodeTokensPerSecond() {
        return decodeMs <= 0 ? 0 : completionTokens * 1000.0 / decodeMs;
    }
}
