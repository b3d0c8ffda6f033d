package dev.finadvisor.feature.process;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HtmlCleanerTest {
    @Test
    void keepsProseAndDropsMarkupScriptsAndBoilerplate() {
        String html = """
                <nav>Home | Markets</nav>
                <div class="article-body">
                  <h2>Shares&nbsp;rise</h2>
                  <p>Apple&#8217;s   revenue <b>beat</b> estimates.<br>Margins widened.</p>
                  <script>var tracking = "x";</script><style>p {color:red}</style>
                  <div class="share-buttons">Share on Twitter</div>
                  <aside>Related: 5 stocks to buy</aside>
                  <ul><li>iPhone up 6%</li><li>Services up 14%</li></ul>
                  <figure><img src="a.png"><figcaption>Photo credit</figcaption></figure>
                </div>
                <footer>Copyright Benzinga</footer>""";
        String text = HtmlCleaner.clean(html);
        assertThat(text).isEqualTo("Shares rise\n\nApple's revenue beat estimates.\nMargins widened.\n\niPhone up 6%\n\nServices up 14%");
    }

    @Test
    void normalisesUnicodeQuotesDashesAndWhitespace() {
        assertThat(HtmlCleaner.normalise("\u201CBuy\u201D \u2014 he said\u2026  it\u2019s\u00A0fine\uFEFF"))
                .isEqualTo("\"Buy\" - he said... it's fine");
        assertThat(HtmlCleaner.normalise("a\r\n\r\n\r\n\r\nb  \n  c")).isEqualTo("a\n\nb\nc");
    }

    @Test
    void emptyOrMissingContentIsEmptyText() {
        assertThat(HtmlCleaner.clean(null)).isEmpty();
        assertThat(HtmlCleaner.clean("  ")).isEmpty();
        assertThat(HtmlCleaner.clean("<script>only()</script>")).isEmpty();
        assertThat(HtmlCleaner.clean("plain text, no tags")).isEqualTo("plain text, no tags");
    }
}
