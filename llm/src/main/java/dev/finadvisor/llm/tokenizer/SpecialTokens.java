package dev.finadvisor.llm.tokenizer;

import java.util.List;

/** A checkpoint's begin/end/padding token ids; -1 where the checkpoint defines none. */
public record SpecialTokens(int bos, List<Integer> eos, int pad) {
    public SpecialTokens {
        eos = List.copyOf(eos);
    }

    public boolean isEos(int id) {
        return eos.contains(id);
    }
}
