package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finadvisor.llm.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerCommandTest {
    @TempDir Path dir;

    @Test
    void learnsAByteLevelBpeThatHuggingFacesLoaderReadsAndThatFoldsTheCorpusWords() throws Exception {
        StringBuilder qa = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            qa.append("{\"about_me\": \"I am ").append(20 + i % 50).append(" and want dividends.\", \"context\": \"Treasury yields rose.\", ")
                    .append("\"question\": \"Should I rebalance my portfolio?\", \"response\": \"Rebalance your portfolio toward dividend stocks.\"}\n");
        }
        Path jsonl = Files.writeString(dir.resolve("qa.jsonl"), qa);
        Path text = Files.writeString(dir.resolve("news.txt"), "Nvidia shares climbed after earnings. ".repeat(50));
        Path out = dir.resolve("tok");
        MainTest.Result r = MainTest.run("tokenizer", "train", "--corpus", jsonl.toString(), "--corpus", text.toString(), "--vocab-size", "400",
                "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("400 tokens").contains("bytes a token");
        try (Tokenizer tok = Tokenizer.load(out)) {
            assertThat(tok.vocabSize()).isEqualTo(400);
            int[] portfolio = tok.encode(" portfolio", false);
            assertThat(portfolio).as("a word the corpus repeats is one token").hasSize(1);
            assertThat(tok.encode(" Nvidia", false)).hasSize(1);
            String unseen = "Zürich → 日本 🚀 unseen words";
            assertThat(tok.decode(tok.encode(unseen, false), true)).isEqualTo(unseen); // byte-level: anything encodes
            assertThat(tok.encode("hi", true)[0]).as("<s> first, as Llama's").isEqualTo(1);
        }
        assertThat(Files.readString(out.resolve("tokenizer_config.json"))).contains("\"eos_token\" : \"</s>\"");
    }

    @Test
    void aTokenizerThenAModelOfOurOwnThenTextFromIt() throws Exception {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 300; i++) text.append("Shares of Apple rose today as investors bought more.\n\n");
        Path corpus = Files.writeString(dir.resolve("corpus.txt"), text);
        Path tok = dir.resolve("own-tok");
        assertThat(MainTest.run("tokenizer", "train", "--corpus", corpus.toString(), "--vocab-size", "300", "--out", tok.toString()).code()).isZero();
        MainTest.Result pre = MainTest.run("pretrain", "--set", "model.tokenizer=" + tok, "--set", "data.corpus=[" + corpus + "]",
                "--set", "model.hidden_size=32", "--set", "model.intermediate_size=64", "--set", "model.num_layers=1", "--set", "model.max_seq_length=16",
                "--set", "training.max_steps=40", "--set", "training.eval_steps=40", "--set", "training.learning_rate=0.01", "--set", "output_dir=" + dir.resolve("runs"));
        assertThat(pre.code()).as(pre.err()).isZero();
        assertThat(pre.out()).contains("validation loss").contains("done: 40 steps; model in ");
        String model = pre.out().substring(pre.out().indexOf("model in ") + "model in ".length()).strip();
        MainTest.Result gen = MainTest.run("generate", "--model", model, "--prompt", "Shares of", "--max-new-tokens", "4", "--json");
        assertThat(gen.code()).as(gen.err()).isZero();
        assertThat(gen.out()).contains("\"text\":\" Apple rose");
    }

    @Test
    void badArgumentsAreOneLineErrors() throws Exception {
        Path text = Files.writeString(dir.resolve("t.txt"), "some text");
        MainTest.Result small = MainTest.run("tokenizer", "train", "--corpus", text.toString(), "--vocab-size", "100", "--out", dir.resolve("a").toString());
        assertThat(small.code()).isEqualTo(Main.USER_ERROR);
        assertThat(small.err()).contains("--vocab-size is 100, must be at least 261");
        MainTest.Result missing = MainTest.run("tokenizer", "train", "--corpus", dir.resolve("nope.txt").toString(), "--vocab-size", "300",
                "--out", dir.resolve("b").toString());
        assertThat(missing.code()).isEqualTo(Main.USER_ERROR);
        assertThat(missing.err()).contains("nope.txt: no such file");
        Path bad = Files.writeString(dir.resolve("bad.jsonl"), "{\"a\": \"x\"}\n{oops\n");
        MainTest.Result json = MainTest.run("tokenizer", "train", "--corpus", bad.toString(), "--vocab-size", "300", "--out", dir.resolve("c").toString());
        assertThat(json.code()).isEqualTo(Main.USER_ERROR);
        assertThat(json.err()).contains("bad.jsonl line 2: not JSON");
        MainTest.Result eos = MainTest.run("tokenizer", "train", "--corpus", text.toString(), "--vocab-size", "300", "--eos", "<|im_end|>",
                "--out", dir.resolve("d").toString());
        assertThat(eos.code()).isEqualTo(Main.USER_ERROR);
        assertThat(eos.err()).contains("--eos: the end-of-sequence token '<|im_end|>' must be non-blank and differ from");
    }

    /** --eos spells token 2 as the falcon template's end marker: that text in a prompt or answer is then the one end token. */
    @Test
    void theEndOfSequenceTokenCanBeSpeltAsTheFalconTemplatesEndMarker() throws Exception {
        Path text = Files.writeString(dir.resolve("t.txt"), "Shares rose after earnings. ".repeat(40));
        Path out = dir.resolve("tok");
        MainTest.Result r = MainTest.run("tokenizer", "train", "--corpus", text.toString(), "--vocab-size", "300", "--eos", "<|endoftext|>", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        try (Tokenizer tok = Tokenizer.load(out)) {
            assertThat(tok.eosIds()).containsExactly(2);
            int[] ids = tok.encode("Shares rose.<|endoftext|>", false);
            assertThat(ids[ids.length - 1]).isEqualTo(2);
            assertThat(tok.encode("</s>", false)).hasSizeGreaterThan(1); // plain text now
        }
        assertThat(Files.readString(out.resolve("tokenizer_config.json"))).contains("\"eos_token\" : \"<|endoftext|>\"");
    }
}
