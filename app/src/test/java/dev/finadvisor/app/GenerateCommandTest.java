package dev.finadvisor.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finadvisor.llm.RandomCheckpoint;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerateCommandTest {
    @TempDir
    static Path dir;
    static String llama;
    static String falcon;

    @BeforeAll
    static void checkpoints() throws Exception {
        llama = RandomCheckpoint.tiny("llama").write(dir.resolve("llama")).toString();
        falcon = RandomCheckpoint.tiny("falcon").write(dir.resolve("falcon")).toString();
    }

    @Test
    void jsonOutputHasTheAgreedFields() throws Exception {
        MainTest.Result r = MainTest.run("generate", "--model", llama, "--prompt-ids", "1,17,42", "--max-new-tokens", "5", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode o = new ObjectMapper().readTree(r.out());
        assertThat(o.get("prompt_ids").toString()).isEqualTo("[1,17,42]");
        assertThat(o.get("generated_ids").size()).isEqualTo(5);
        assertThat(o.get("finish_reason").asText()).isEqualTo("length");
        assertThat(o.has("text")).isTrue();
        assertThat(o.get("prefill_ms").isIntegralNumber()).isTrue();
        assertThat(o.get("decode_tokens_per_s").asDouble()).isPositive();
        // greedy is the default: the same command gives the same tokens
        JsonNode again = new ObjectMapper().readTree(MainTest.run("generate", "--model", llama, "--prompt-ids", "1,17,42",
                "--max-new-tokens", "5", "--json").out());
        assertThat(again.get("generated_ids")).isEqualTo(o.get("generated_ids"));
    }

    @Test
    void textPromptsStreamForEveryFamily() throws Exception {
        for (String model : new String[] {llama, falcon}) {
            MainTest.Result r = MainTest.run("generate", "--model", model, "--prompt", "The stock market", "--max-new-tokens", "6",
                    "--temperature", "0.8", "--top-k", "40", "--top-p", "0.9", "--seed", "7");
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.err()).contains("length after 6 tokens").contains("tokens/s");
            MainTest.Result json = MainTest.run("generate", "--model", model, "--prompt", "The stock market", "--max-new-tokens", "6",
                    "--temperature", "0.8", "--top-k", "40", "--top-p", "0.9", "--seed", "7", "--json");
            assertThat(r.out().strip()).isEqualTo(new ObjectMapper().readTree(json.out()).get("text").asText().strip());
        }
    }

    @Test
    void everyWeightFormatGeneratesAndBf16GivesFp32sTokensOnABf16Checkpoint() throws Exception {
        String bf16 = RandomCheckpoint.tiny("llama").withDtype(dev.finadvisor.llm.safetensors.Dtype.BF16).write(dir.resolve("llama-bf16")).toString();
        JsonNode fp32 = null;
        for (String format : new String[] {"fp32", "auto", "bf16", "int8", "nf4"}) {
            MainTest.Result r = MainTest.run("generate", "--model", bf16, "--weights", format, "--prompt-ids", "1,17,42", "--max-new-tokens", "8", "--json");
            assertThat(r.code()).as(format + ": " + r.err()).isZero();
            JsonNode o = new ObjectMapper().readTree(r.out());
            assertThat(o.get("generated_ids").size()).as(format).isEqualTo(8);
            if (fp32 == null) fp32 = o.get("generated_ids");
            else if (format.equals("auto") || format.equals("bf16")) assertThat(o.get("generated_ids")).as(format).isEqualTo(fp32);
        }
        MainTest.Result bad = MainTest.run("generate", "--model", bf16, "--weights", "int4", "--prompt-ids", "1");
        assertThat(bad.code()).isEqualTo(Main.USER_ERROR);
        assertThat(bad.err().strip()).doesNotContain("\n").contains("--weights: 'int4' is not a weight format; use one of auto, fp32, bf16, int8, nf4");
    }

    @Test
    void badInputIsAOneLineUserError() {
        MainTest.Result ids = MainTest.run("generate", "--model", llama, "--prompt-ids", "1,x,3");
        assertThat(ids.code()).isEqualTo(Main.USER_ERROR);
        assertThat(ids.err()).contains("--prompt-ids: item 2 is 'x'");
        MainTest.Result both = MainTest.run("generate", "--model", llama, "--prompt-ids", "1", "--prompt", "hi");
        assertThat(both.code()).isEqualTo(Main.USER_ERROR);
        assertThat(both.err()).contains("mutually exclusive");
        MainTest.Result model = MainTest.run("generate", "--model", dir.resolve("missing/thing/here").toString(), "--prompt", "hi");
        assertThat(model.code()).isEqualTo(Main.USER_ERROR);
        assertThat(model.err()).contains("no such folder");
        MainTest.Result overflow = MainTest.run("generate", "--model", llama, "--prompt-ids", "1", "--max-new-tokens", "1000");
        assertThat(overflow.code()).isEqualTo(Main.USER_ERROR);
        assertThat(overflow.err()).contains("context of 256");
        MainTest.Result temp = MainTest.run("generate", "--model", llama, "--prompt-ids", "1", "--temperature", "-1");
        assertThat(temp.err()).contains("temperature is -1.0");
    }
}
