package dev.finadvisor.training.tracking;

import java.util.ArrayList;
import java.util.List;

/** A plain-text table for the terminal: a header row, columns padded to their widest cell, numbers right-aligned. */
final class TextTable {
    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();

    TextTable(String... header) {
        this.header = List.of(header);
    }

    TextTable(List<String> header) {
        this.header = List.copyOf(header);
    }

    TextTable row(List<String> cells) {
        if (cells.size() != header.size()) throw new IllegalArgumentException("row has " + cells.size() + " cells, header " + header.size());
        rows.add(cells.stream().map(c -> c == null ? "-" : c).toList());
        return this;
    }

    TextTable row(String... cells) {
        return row(List.of(cells));
    }

    @Override
    public String toString() {
        int[] width = new int[header.size()];
        boolean[] numeric = new boolean[header.size()];
        for (int c = 0; c < width.length; c++) {
            width[c] = header.get(c).length();
            numeric[c] = !rows.isEmpty();
            for (List<String> r : rows) {
                width[c] = Math.max(width[c], r.get(c).length());
                if (!r.get(c).equals("-") && !r.get(c).matches("[-+0-9.,eE%NaInfity]+( s| GiB| MiB| KiB| B)?")) numeric[c] = false;
            }
        }
        StringBuilder sb = new StringBuilder();
        line(sb, header, width, new boolean[width.length]);
        for (List<String> r : rows) line(sb, r, width, numeric);
        return sb.toString();
    }

    private static void line(StringBuilder sb, List<String> cells, int[] width, boolean[] right) {
        StringBuilder l = new StringBuilder();
        for (int c = 0; c < cells.size(); c++) {
            String cell = cells.get(c);
            String pad = " ".repeat(width[c] - cell.length());
            if (c > 0) l.append("  ");
            l.append(right[c] ? pad + cell : cell + pad);
        }
        sb.append(l.toString().stripTrailing()).append('\n');
    }
}
