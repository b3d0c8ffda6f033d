package dev.finadvisor.feature.source;

/** Alpaca REST news over a date range, page after page, resuming inside the page it had reached. */
final class BackfillFeed implements NewsFeed {
    private final BackfillSplit split;
    private final AlpacaRestClient rest;

    BackfillFeed(BackfillSplit split, AlpacaRestClient rest) {
        this.split = split;
        this.rest = rest;
    }

    @Override
    public void run(FeedOutput out) throws Exception {
        String token = split.pageToken();
        int skip = split.doneInPage();
        int pageNumber = 0;
        while (true) {
            NewsPage page = rest.fetch(split.from(), split.to(), split.symbols(), token);
            pageNumber++;
            for (int i = skip; i < page.articles().size(); i++) {
                BackfillSplit after = new BackfillSplit(split.from(), split.to(), split.symbols(), token, i + 1);
                out.emit(new IncomingNews(page.articles().get(i), "alpaca-rest page " + pageNumber + " item " + (i + 1),
                        System.currentTimeMillis()), after);
            }
            if (page.nextPageToken() == null) return;
            token = page.nextPageToken();
            skip = 0;
        }
    }
}
