package dev.finadvisor.llm.lowbit;

/**
 * The 4-bit NormalFloat code book of the QLoRA paper (Dettmers et al. 2023; bitsandbytes' NF4 values): 16
 * quantiles of N(0,1) scaled to [-1, 1], with an exact 0. Shared by the trainer's NF4 tensors and the packed
 * NF4 weights generation reads.
 */
public final class Nf4Code {
    private static final float[] CODE = {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    };

    /** Midpoints between neighbouring code values: a value's code is the number of midpoints below it. */
    static final float[] MIDPOINTS = new float[15];

    /** Bins of [-1, 1], each narrower than the gap between two midpoints: a bin holds at most one midpoint. */
    private static final int BINS = 1024;
    /** The code of each bin's lower edge: a value's code is its bin's, or the next when the bin's midpoint is below it. */
    private static final byte[] BIN_CODE = new byte[BINS];

    static {
        for (int i = 0; i < 15; i++) MIDPOINTS[i] = (CODE[i] + CODE[i + 1]) / 2f;
        for (int b = 0; b < BINS; b++) BIN_CODE[b] = (byte) count(-1f + 2f * b / BINS);
    }

    private Nf4Code() {}

    /** The 16 code values in increasing order (a copy). */
    public static float[] values() {
        return CODE.clone();
    }

    /** The code value with index {@code i} (0..15). */
    public static float value(int i) {
        return CODE[i];
    }

    /**
     * Index of the code value nearest to {@code x} (x is clamped to [-1, 1]; ties go to the lower code): the number of
     * midpoints strictly below x, found through a table of bins rather than a search whose branches the CPU cannot
     * predict (loading a 7B model quantises 7 billion values).
     */
    public static int nearest(float x) {
        int bin = (int) ((x + 1f) * (BINS / 2f));
        int code = BIN_CODE[Math.max(0, Math.min(BINS - 1, bin))];
        if (code < 15 && MIDPOINTS[code] < x) return code + 1;
        if (code > 0 && MIDPOINTS[code - 1] >= x) return code - 1; // x rounded into the bin above its own
        return code;
    }

    /** The number of midpoints strictly below {@code x}, by a search. */
    static int count(float x) {
        int lo = 0;
        int hi = 15;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (MIDPOINTS[mid] < x) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}
