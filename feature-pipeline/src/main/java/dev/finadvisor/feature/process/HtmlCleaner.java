package dev.finadvisor.feature.process;

import java.text.Normalizer;
import java.util.regex.Pattern;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.nodes.Node;
import org.jsoup.nodes.TextNode;
import org.jsoup.select.NodeTraversor;
import org.jsoup.select.NodeVisitor;

/**
 * Turns an article's HTML into the plain text worth embedding: markup, scripts, styles and page
 * furniture (navigation, share bars, ads, "related" boxes) go; paragraphs stay apart; whitespace,
 * typographic quotes and compatibility characters are normalised.
 */
public final class HtmlCleaner {
    // Elements that never hold article prose.
    private static final String DROP_TAGS = "script, style, noscript, template, iframe, object, embed, svg, canvas, "
            + "form, button, input, select, textarea, nav, header, footer, aside, figure, figcaption, img, video, audio";
    // Class or id fragments that mark boilerplate in news HTML (share bars, ads, newsletters, related links).
    private static final Pattern BOILERPLATE = Pattern.compile(
            "(^|[-_ ])(share|social|advert|ads?|promo|newsletter|subscribe|related|sidebar|cookie|disclaimer|byline-tools|comments?)([-_ ]|$)",
            Pattern.CASE_INSENSITIVE);
    private static final String BLOCKS = "p, div, li, ul, ol, h1, h2, h3, h4, h5, h6, table, tr, blockquote, pre, section, article, hr, dd, dt";
    private static final Pattern SPACES = Pattern.compile("[ \\t\\x0B\\f\\u00A0\\u2000-\\u200B\\u202F\\u205F\\u3000]+");
    private static final Pattern SPACE_AROUND_NEWLINE = Pattern.compile(" *\n *");
    private static final Pattern MANY_NEWLINES = Pattern.compile("\n{3,}");

    private HtmlCleaner() {}

    public static String clean(String html) {
        if (html == null || html.isBlank()) return "";
        Document doc = Jsoup.parseBodyFragment(html);
        doc.select(DROP_TAGS).remove();
        for (Element e : doc.body().select("[class], [id], [role]")) {
            String marks = e.className() + " " + e.id() + " " + e.attr("role");
            if (BOILERPLATE.matcher(marks).find() || e.attr("role").equalsIgnoreCase("navigation")) e.remove();
        }
        StringBuilder out = new StringBuilder(html.length() / 2);
        NodeTraversor.traverse(new NodeVisitor() {
            @Override
            public void head(Node node, int depth) {
                if (node instanceof TextNode t) {
                    out.append(t.getWholeText());
                } else if (node instanceof Element e && (e.is(BLOCKS) || e.nameIs("br"))) {
                    out.append('\n');
                }
            }

            @Override
            public void tail(Node node, int depth) {
                if (node instanceof Element e && e.is(BLOCKS)) out.append('\n');
            }
        }, doc.body());
        return normalise(out.toString());
    }

    /** Unicode NFKC, ASCII quotes and dashes, single spaces, at most one blank line between paragraphs. */
    public static String normalise(String text) {
        String s = Normalizer.normalize(text, Normalizer.Form.NFKC);
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\u2018', '\u2019', '\u201A', '\u201B', '\u2032', '\u00B4', '\u0060' -> sb.append('\'');
                case '\u201C', '\u201D', '\u201E', '\u201F', '\u2033', '\u00AB', '\u00BB' -> sb.append('"');
                case '\u2013', '\u2014', '\u2212' -> sb.append('-');
                case '\u2026' -> sb.append("...");
                case '\r' -> sb.append('\n');
                case '\u00AD', '\u200C', '\u200D', '\uFEFF' -> { } // soft hyphen, zero-width joiners, BOM
                default -> sb.append(c);
            }
        }
        s = SPACES.matcher(sb).replaceAll(" ");
        s = SPACE_AROUND_NEWLINE.matcher(s).replaceAll("\n");
        s = MANY_NEWLINES.matcher(s).replaceAll("\n\n");
        return s.strip();
    }
}
