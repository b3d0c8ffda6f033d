package dev.finadvisor.feature;

import dev.finadvisor.domain.news.NewsArticle;
import dev.finadvisor.feature.process.HtmlCleaner;
import dev.finadvisor.feature.process.InvalidArticle;
import dev.finadvisor.feature.process.NewsParser;
import dev.finadvisor.feature.sink.PreparedNews;
import dev.finadvisor.feature.source.IncomingNews;
import org.apache.flink.api.common.functions.MapFunction;

/** Parses and validates each message and cleans its HTML; a message that is no usable article becomes a dead letter. */
final class PrepareNews implements MapFunction<IncomingNews, PreparedNews> {
    private static final long serialVersionUID = 1L;

    @Override
    public PreparedNews map(IncomingNews in) {
        return prepare(in);
    }

    static PreparedNews prepare(IncomingNews in) {
        if (in.unreadable() != null) return PreparedNews.deadLetter(in.origin(), in.receivedAtMillis(), in.json(), in.unreadable());
        try {
            NewsArticle article = NewsParser.parse(in.json());
            return PreparedNews.article(in.origin(), in.receivedAtMillis(), in.json(), HtmlCleaner.clean(article.content()));
        } catch (InvalidArticle e) {
            return PreparedNews.deadLetter(in.origin(), in.receivedAtMillis(), in.json(), e.getMessage());
        }
    }
}
