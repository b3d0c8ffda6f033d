package dev.finadvisor.feature.source;

import java.util.List;

/** One page of Alpaca's REST news: each article's raw JSON, and the token of the next page (null: last page). */
record NewsPage(List<String> articles, String nextPageToken) {}
