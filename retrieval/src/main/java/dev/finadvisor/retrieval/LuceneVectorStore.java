package dev.finadvisor.retrieval;

import dev.finadvisor.domain.UserError;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.lucene.codecs.Codec;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene912.Lucene912Codec;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.IndexFormatTooNewException;
import org.apache.lucene.index.IndexFormatTooOldException;
import org.apache.lucene.index.IndexNotFoundException;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.PointValues;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Scorer;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermInSetQuery;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TopKnnCollector;
import org.apache.lucene.search.knn.KnnCollectorManager;
import org.apache.lucene.search.TotalHits;
import org.apache.lucene.search.Weight;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.LockObtainFailedException;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;

/**
 * The embedded vector store: an Apache Lucene index on disk with an HNSW graph over unit vectors
 * (DOT_PRODUCT, which equals cosine for them), {@code created_at} as a LongPoint, each symbol as a
 * StringField and the payload stored as JSON.
 *
 * <p>Opened for writing ({@link #open}) it holds the directory's write lock; searches in the same
 * process see every upsert made before them (near-real-time reader, refreshed when something
 * changed). Only {@link #commit()} (and {@link #close()}) make points durable: a crash, {@code kill -9}
 * included, loses what was not committed and never a committed point, because Lucene writes a new commit point
 * beside the old one, fsyncs it and only then switches. Opened read-only ({@link #openReadOnly}),
 * e.g. by the search command while the feature pipeline writes, it sees each new commit within
 * {@value #READ_ONLY_REFRESH_MS} ms.
 */
public final class LuceneVectorStore implements VectorStore {
    /**
     * HNSW is asked for this many candidates by default (at least {@code k}), the best {@code k} kept:
     * at k=5 alone recall@5 on clustered news was 0.67; see bench/vector-store for the 1M-point figures.
     */
    public static final int DEFAULT_CANDIDATES = 50;
    /**
     * Lucene (9.10+) lets the segments of one search share a queue of the best scores so far, and a segment
     * stops exploring its graph once it cannot beat it; on clustered vectors at 1M points (7 segments) that
     * cut recall@5 at 50 candidates from 0.97 to 0.87 (bench/vector-store). Off by default: each segment's
     * graph is searched in full.
     */
    public static final boolean DEFAULT_PRUNE_ACROSS_SEGMENTS = false;
    /**
     * With each segment searched in full, a segment of n points is asked for at least this many
     * candidates per million points: one 1M-point graph needs ~200 for recall@5 0.976 where seven smaller
     * ones reach 0.966 with 50 each (bench/vector-store).
     */
    public static final int DEFAULT_CANDIDATES_PER_MILLION = 200;
    /** The most candidates one search may ask for. */
    public static final int MAX_CANDIDATES = 10_000;
    static final long READ_ONLY_REFRESH_MS = 200;
    /**
     * A filter passing at most this many points is answered by scanning them exactly: cheaper than
     * walking the graph past the filtered-out majority (measured in bench/vector-store), and exact.
     */
    public static final int EXACT_FILTER_LIMIT = 10_000;

    private static final String ID = "id";
    private static final String ARTICLE = "article_id";
    private static final String VECTOR = "vector";
    private static final String CREATED_AT = "created_at";
    private static final String SYMBOL = "symbol";
    private static final String PAYLOAD = "payload";
    private static final String DIMENSION_KEY = "finadvisor.dimension";
    private static final String FORMAT_KEY = "finadvisor.format";
    private static final String FORMAT = "vectors-1";

    /**
     * HNSW graph parameters: neighbours per node and the beam used while building. They are fixed per
     * segment when it is written: an index built with other values stays readable, and its segments
     * take the new values as they are merged.
     */
    public record HnswParameters(int maxConn, int beamWidth) {
        /** Lucene's own limits (Lucene99HnswVectorsFormat). */
        public static final int MAX_MAX_CONN = 512;
        public static final int MAX_BEAM_WIDTH = 3200;
        public static final HnswParameters DEFAULT = new HnswParameters(16, 100);

        public HnswParameters {
            if (maxConn < 2 || maxConn > MAX_MAX_CONN) {
                throw new IllegalArgumentException("HNSW maxConn " + maxConn + " is out of 2.." + MAX_MAX_CONN);
            }
            if (beamWidth < 1 || beamWidth > MAX_BEAM_WIDTH) {
                throw new IllegalArgumentException("HNSW beamWidth " + beamWidth + " is out of 1.." + MAX_BEAM_WIDTH);
            }
        }
    }

    private final Path dir;
    private final Directory directory;
    private final IndexWriter writer; // null when read-only
    private final SearcherManager searchers;
    private final PointValidator validator;
    private final AtomicLong changes = new AtomicLong();
    private final AtomicLong refreshedAt = new AtomicLong();
    private volatile long lastReadOnlyCheck;
    private volatile int exactFilterLimit = EXACT_FILTER_LIMIT;
    private volatile boolean pruneAcrossSegments = DEFAULT_PRUNE_ACROSS_SEGMENTS;
    private volatile int candidates = DEFAULT_CANDIDATES;
    private volatile int candidatesPerMillion = DEFAULT_CANDIDATES_PER_MILLION;

    private LuceneVectorStore(Path dir, Directory directory, IndexWriter writer, SearcherManager searchers, int dimension) {
        this.dir = dir;
        this.directory = directory;
        this.writer = writer;
        this.searchers = searchers;
        this.validator = new PointValidator(dimension);
    }

    /** Opens (or creates) the index in {@code dir} for reading and writing, with the default HNSW parameters. */
    public static LuceneVectorStore open(Path dir, int dimension) {
        return open(dir, dimension, HnswParameters.DEFAULT);
    }

    public static LuceneVectorStore open(Path dir, int dimension, HnswParameters hnsw) {
        if (dimension < 1 || dimension > 4096) throw new IllegalArgumentException("dimension " + dimension + " out of 1..4096");
        prepareDirectory(dir);
        Directory directory = null;
        IndexWriter writer = null;
        try {
            directory = FSDirectory.open(dir);
            boolean exists = DirectoryReader.indexExists(directory);
            if (exists) checkMetadata(dir, SegmentInfos.readLatestCommit(directory).getUserData(), dimension);
            IndexWriterConfig config = new IndexWriterConfig()
                    .setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND)
                    .setCodec(codec(hnsw))
                    .setRAMBufferSizeMB(128)
                    .setCommitOnClose(true);
            writer = new IndexWriter(directory, config);
            writer.setLiveCommitData(Map.of(DIMENSION_KEY, String.valueOf(dimension), FORMAT_KEY, FORMAT).entrySet());
            if (!exists) writer.commit(); // an empty but valid index, so readers can open it at once
            SearcherManager searchers = new SearcherManager(writer, true, false, null);
            return new LuceneVectorStore(dir, directory, writer, searchers, dimension);
        } catch (LockObtainFailedException e) {
            closeQuietly(writer, directory);
            throw new UserError(dir + ": the vector index is already open for writing by another process"
                    + " (only one writer at a time; open it read-only to search)", e);
        } catch (IOException | RuntimeException e) {
            closeQuietly(writer, directory);
            throw unreadable(dir, e);
        }
    }

    /** Opens an existing index for searching only; it follows new commits of a writer in another process. */
    public static LuceneVectorStore openReadOnly(Path dir) {
        if (!Files.isDirectory(dir)) throw new UserError(dir + ": no such directory: no vector index to search");
        Directory directory = null;
        try {
            directory = FSDirectory.open(dir);
            if (!DirectoryReader.indexExists(directory)) {
                throw new UserError(dir + ": holds no vector index (run the feature pipeline into it first, or check the path)");
            }
            Map<String, String> data = SegmentInfos.readLatestCommit(directory).getUserData();
            int dimension = checkMetadata(dir, data, -1);
            SearcherManager searchers = new SearcherManager(directory, null);
            return new LuceneVectorStore(dir, directory, null, searchers, dimension);
        } catch (UserError e) {
            closeQuietly(null, directory);
            throw e;
        } catch (IOException | RuntimeException e) {
            closeQuietly(null, directory);
            throw unreadable(dir, e);
        }
    }

    private static void prepareDirectory(Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new UserError(dir + ": is a file, not a directory: give a directory for the vector index");
        }
        try {
            Files.createDirectories(dir);
            boolean hasIndex;
            boolean empty;
            try (Stream<Path> files = Files.list(dir)) {
                List<String> names = files.map(p -> p.getFileName().toString()).toList();
                hasIndex = names.stream().anyMatch(n -> n.startsWith("segments_"));
                empty = names.isEmpty() || names.equals(List.of("write.lock"));
            }
            if (!hasIndex && !empty) {
                throw new UserError(dir + ": is not empty and holds no vector index; give an empty or new directory");
            }
        } catch (AccessDeniedException e) {
            throw new UserError(dir + ": permission denied (" + e.getFile() + ")", e);
        } catch (IOException e) {
            throw new UserError(dir + ": cannot create or list the index directory: " + e, e);
        }
    }

    /** Checks the index's own record of its dimension against the caller's; returns the dimension. */
    private static int checkMetadata(Path dir, Map<String, String> data, int expected) {
        if (!FORMAT.equals(data.get(FORMAT_KEY)) || data.get(DIMENSION_KEY) == null) {
            throw new UserError(dir + ": holds a Lucene index that finadvisor did not write (commit data " + data + ")");
        }
        int stored = Integer.parseInt(data.get(DIMENSION_KEY));
        if (expected > 0 && stored != expected) {
            throw new UserError(dir + ": holds " + stored + "-d vectors but " + expected
                    + "-d were asked for: use the embedding model the index was built with, or a new directory");
        }
        return stored;
    }

    private static UserError unreadable(Path dir, Exception e) {
        if (e instanceof UserError u) return u;
        if (e instanceof AccessDeniedException a) return new UserError(dir + ": permission denied (" + a.getFile() + ")", e);
        String why = e instanceof IndexFormatTooOldException || e instanceof IndexFormatTooNewException
                ? "written by an incompatible Lucene version"
                : e instanceof IndexNotFoundException || e instanceof NoSuchFileException ? "files are missing"
                : "corrupt or unreadable";
        return new UserError(dir + ": the vector index is " + why + " (" + e.getClass().getSimpleName() + ": "
                + e.getMessage() + "); restore the directory or rebuild the index into a new one", e);
    }

    private static Codec codec(HnswParameters hnsw) {
        KnnVectorsFormat format = new Lucene99HnswVectorsFormat(hnsw.maxConn(), hnsw.beamWidth());
        return new Lucene912Codec() {
            @Override
            public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
                return format;
            }
        };
    }

    public Path directory() {
        return dir;
    }

    public int dimension() {
        return validator.dimension();
    }

    public boolean readOnly() {
        return writer == null;
    }

    @Override
    public void upsert(List<Point> points) {
        IndexWriter w = writable();
        validator.checkPoints(points);
        List<Document> docs = points.stream().map(LuceneVectorStore::document).toList();
        try {
            for (int i = 0; i < docs.size(); i++) {
                w.updateDocument(new Term(ID, points.get(i).id()), docs.get(i));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": writing points failed", e);
        } finally {
            changes.incrementAndGet();
        }
    }

    @Override
    public void replaceArticle(long articleId, List<Point> points) {
        IndexWriter w = writable();
        validator.checkPoints(points);
        validator.checkArticle(articleId, points);
        List<Document> docs = points.stream().map(LuceneVectorStore::document).toList();
        try {
            // One atomic delete-and-add: no reader ever sees the article half replaced.
            w.updateDocuments(new Term(ARTICLE, Long.toString(articleId)), docs);
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": replacing article " + articleId + " failed", e);
        } finally {
            changes.incrementAndGet();
        }
    }

    @Override
    public void deleteArticle(long articleId) {
        IndexWriter w = writable();
        try {
            w.deleteDocuments(new Term(ARTICLE, Long.toString(articleId)));
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": deleting article " + articleId + " failed", e);
        } finally {
            changes.incrementAndGet();
        }
    }

    private static Document document(Point p) {
        ChunkPayload payload = p.payload();
        Document doc = new Document();
        doc.add(new StringField(ID, p.id(), Field.Store.YES));
        doc.add(new StringField(ARTICLE, Long.toString(payload.articleId()), Field.Store.NO));
        doc.add(new KnnFloatVectorField(VECTOR, p.vector(), VectorSimilarityFunction.DOT_PRODUCT));
        doc.add(new LongPoint(CREATED_AT, payload.createdAt().toEpochMilli()));
        for (String symbol : payload.symbols()) doc.add(new StringField(SYMBOL, symbol, Field.Store.NO));
        doc.add(new StoredField(PAYLOAD, PayloadJson.write(payload)));
        return doc;
    }

    @Override
    public Optional<Instant> articleUpdatedAt(long articleId) {
        IndexSearcher searcher = acquire();
        try {
            TopDocs top = searcher.search(new TermQuery(new Term(ARTICLE, Long.toString(articleId))), 1);
            if (top.scoreDocs.length == 0) return Optional.empty();
            ChunkPayload payload = hit(searcher.storedFields(), top.scoreDocs[0].doc, 0).payload();
            return Optional.ofNullable(payload.updatedAt() != null ? payload.updatedAt() : payload.createdAt());
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": looking up article " + articleId + " failed", e);
        } finally {
            release(searcher);
        }
    }

    /** Sets how many candidates {@link #search(float[], int, SearchFilter)} asks HNSW for (at least k); returns this store. */
    public LuceneVectorStore candidates(int candidates) {
        if (candidates < 1 || candidates > MAX_CANDIDATES) {
            throw new IllegalArgumentException("candidates " + candidates + " is out of 1.." + MAX_CANDIDATES);
        }
        this.candidates = candidates;
        return this;
    }

    public int candidates() {
        return candidates;
    }

    /**
     * Sets the floor on each segment's candidates per million points it holds (searches with each segment
     * in full only; 0 = none): big segments need a wider search than small ones; returns this store.
     */
    public LuceneVectorStore candidatesPerMillion(int perMillion) {
        if (perMillion < 0 || perMillion > MAX_CANDIDATES) {
            throw new IllegalArgumentException("candidates per million " + perMillion + " is out of 0.." + MAX_CANDIDATES);
        }
        this.candidatesPerMillion = perMillion;
        return this;
    }

    public int candidatesPerMillion() {
        return candidatesPerMillion;
    }

    @Override
    public List<Hit> search(float[] query, int k, SearchFilter filter) {
        return search(query, k, filter, Math.max(k, candidates));
    }

    /** Search asking HNSW for {@code candidates} (at least {@code k}) neighbours; for benchmarks of the recall/latency trade. */
    public List<Hit> search(float[] query, int k, SearchFilter filter, int candidates) {
        validator.checkQuery(query, k);
        if (candidates < k) throw new IllegalArgumentException("candidates " + candidates + " < k " + k);
        SearchFilter f = filter == null ? SearchFilter.NONE : filter;
        IndexSearcher searcher = acquire();
        try {
            Query filterQuery = filterQuery(f);
            TopDocs top = filterQuery != null && searcher.count(filterQuery) <= exactFilterLimit
                    ? exactSearch(searcher, filterQuery, query, k)
                    : searcher.search(pruneAcrossSegments ? new KnnFloatVectorQuery(VECTOR, query, candidates, filterQuery)
                            : new PerSegmentKnnQuery(VECTOR, query, candidates, filterQuery, candidatesPerMillion), candidates);
            StoredFields stored = searcher.storedFields();
            List<Hit> hits = new ArrayList<>(Math.min(k, top.scoreDocs.length));
            for (ScoreDoc sd : top.scoreDocs) {
                if (hits.size() == k) break;
                // Lucene scores DOT_PRODUCT as (1 + dot) / 2; report the cosine itself.
                hits.add(hit(stored, sd.doc, 2 * sd.score - 1));
            }
            return hits;
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": search failed", e);
        } finally {
            release(searcher);
        }
    }

    /**
     * Whether segments share one queue of the best scores so far (Lucene's default since 9.10: a segment
     * searched later stops early once it cannot beat it: faster, lower recall) or each segment's graph is
     * searched in full (this store's default, {@link #DEFAULT_PRUNE_ACROSS_SEGMENTS}); returns this store.
     */
    public LuceneVectorStore pruneAcrossSegments(boolean prune) {
        pruneAcrossSegments = prune;
        return this;
    }

    public boolean pruneAcrossSegments() {
        return pruneAcrossSegments;
    }

    /**
     * HNSW search that explores each segment's graph on its own (no early stop from other segments'
     * scores), asking a segment of n points for max(k, perMillion * n / 1M) candidates; Lucene merges
     * the segments' results and keeps the best k.
     */
    private static final class PerSegmentKnnQuery extends KnnFloatVectorQuery {
        private final int perMillion;

        PerSegmentKnnQuery(String field, float[] target, int k, Query filter, int perMillion) {
            super(field, target, k, filter);
            this.perMillion = perMillion;
        }

        @Override
        protected KnnCollectorManager getKnnCollectorManager(int k, IndexSearcher searcher) {
            return (visitedLimit, context) -> {
                long scaled = ((long) perMillion * context.reader().maxDoc() + 999_999) / 1_000_000;
                return new TopKnnCollector((int) Math.min(MAX_CANDIDATES, Math.max(k, scaled)), visitedLimit);
            };
        }

        @Override
        public boolean equals(Object o) {
            return super.equals(o) && ((PerSegmentKnnQuery) o).perMillion == perMillion;
        }

        @Override
        public int hashCode() {
            return 31 * super.hashCode() + perMillion;
        }
    }

    /** Tests set this to 0 to exercise HNSW's own filtered search on small indexes. */
    void exactFilterLimit(int limit) {
        exactFilterLimit = limit;
    }

    /** The exact top {@code k} among the live points that pass {@code filter}, scored like the HNSW path. */
    private static TopDocs exactSearch(IndexSearcher searcher, Query filter, float[] query, int k) throws IOException {
        Weight weight = searcher.createWeight(searcher.rewrite(filter), ScoreMode.COMPLETE_NO_SCORES, 1f);
        PriorityQueue<ScoreDoc> best = new PriorityQueue<>(k + 1, (a, b) -> Float.compare(a.score, b.score));
        for (LeafReaderContext leaf : searcher.getIndexReader().leaves()) {
            Scorer scorer = weight.scorer(leaf);
            FloatVectorValues vectors = leaf.reader().getFloatVectorValues(VECTOR);
            if (scorer == null || vectors == null) continue;
            Bits live = leaf.reader().getLiveDocs();
            DocIdSetIterator docs = scorer.iterator();
            for (int doc = docs.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = docs.nextDoc()) {
                if ((live != null && !live.get(doc)) || vectors.advance(doc) != doc) continue;
                float score = VectorSimilarityFunction.DOT_PRODUCT.compare(query, vectors.vectorValue());
                if (best.size() < k) {
                    best.add(new ScoreDoc(leaf.docBase + doc, score));
                } else if (score > best.peek().score) {
                    best.poll();
                    best.add(new ScoreDoc(leaf.docBase + doc, score));
                }
            }
        }
        ScoreDoc[] sorted = best.toArray(new ScoreDoc[0]);
        java.util.Arrays.sort(sorted, (a, b) -> Float.compare(b.score, a.score));
        return new TopDocs(new TotalHits(sorted.length, TotalHits.Relation.EQUAL_TO), sorted);
    }

    /** The filter as a Lucene query, or null for none. {@code until} is exclusive; times have millisecond precision. */
    static Query filterQuery(SearchFilter f) {
        if (f.isEmpty()) return null;
        BooleanQuery.Builder b = new BooleanQuery.Builder();
        if (f.since() != null || f.until() != null) {
            long lo = f.since() == null ? Long.MIN_VALUE : ceilMillis(f.since());
            long hi = f.until() == null ? Long.MAX_VALUE : ceilMillis(f.until()) - 1;
            b.add(LongPoint.newRangeQuery(CREATED_AT, lo, hi), BooleanClause.Occur.FILTER);
        }
        if (!f.anySymbols().isEmpty()) {
            List<BytesRef> terms = f.anySymbols().stream().sorted().map(BytesRef::new).toList();
            b.add(new TermInSetQuery(SYMBOL, terms), BooleanClause.Occur.FILTER);
        }
        return b.build();
    }

    private static long ceilMillis(Instant t) {
        long ms = t.toEpochMilli();
        return Instant.ofEpochMilli(ms).isBefore(t) ? ms + 1 : ms;
    }

    private Hit hit(StoredFields stored, int doc, float score) throws IOException {
        Document d = stored.document(doc);
        String id = d.get(ID);
        return new Hit(id, score, PayloadJson.read(d.getBinaryValue(PAYLOAD).bytes, id));
    }

    /** Reads every stored payload once (a full pass over the index: for occasional use, not per request). */
    @Override
    public List<ChunkPayload> newestArticles(int limit) {
        IndexSearcher searcher = acquire();
        try {
            StoredFields stored = searcher.storedFields();
            Map<Long, ChunkPayload> first = new HashMap<>();
            var reader = searcher.getIndexReader();
            for (var leaf : reader.leaves()) {
                var live = leaf.reader().getLiveDocs();
                for (int d = 0; d < leaf.reader().maxDoc(); d++) {
                    if (live != null && !live.get(d)) continue;
                    ChunkPayload p = hit(stored, leaf.docBase + d, 0).payload();
                    first.merge(p.articleId(), p, (a, b) -> a.chunkIndex() <= b.chunkIndex() ? a : b);
                }
            }
            return first.values().stream()
                    .sorted(java.util.Comparator.comparing(ChunkPayload::createdAt).reversed().thenComparing(ChunkPayload::articleId))
                    .limit(limit).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": reading the articles failed", e);
        } finally {
            release(searcher);
        }
    }

    @Override
    public long count() {
        IndexSearcher searcher = acquire();
        try {
            return searcher.getIndexReader().numDocs();
        } finally {
            release(searcher);
        }
    }

    @Override
    public StoreStats stats() {
        IndexSearcher searcher = acquire();
        try {
            var reader = searcher.getIndexReader();
            byte[] min = PointValues.getMinPackedValue(reader, CREATED_AT);
            byte[] max = PointValues.getMaxPackedValue(reader, CREATED_AT);
            // Deleted points still count in the point tree until merged away: the range may be a little wide.
            return new StoreStats("lucene", dir.toString(), reader.numDocs(), liveTerms(reader, ARTICLE),
                    min == null ? null : Instant.ofEpochMilli(LongPoint.decodeDimension(min, 0)),
                    max == null ? null : Instant.ofEpochMilli(LongPoint.decodeDimension(max, 0)));
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": reading stats failed", e);
        } finally {
            release(searcher);
        }
    }

    /** How many terms of {@code field} have a live document (a deleted one's term lingers until a merge). */
    private static long liveTerms(org.apache.lucene.index.IndexReader reader, String field) throws IOException {
        org.apache.lucene.index.Terms terms = org.apache.lucene.index.MultiTerms.getTerms(reader, field);
        if (terms == null) return 0;
        org.apache.lucene.util.Bits live = org.apache.lucene.index.MultiBits.getLiveDocs(reader);
        long n = 0;
        org.apache.lucene.index.TermsEnum it = terms.iterator();
        org.apache.lucene.index.PostingsEnum docs = null;
        for (org.apache.lucene.util.BytesRef t = it.next(); t != null; t = it.next()) {
            docs = it.postings(docs, org.apache.lucene.index.PostingsEnum.NONE);
            for (int d = docs.nextDoc(); d != org.apache.lucene.search.DocIdSetIterator.NO_MORE_DOCS; d = docs.nextDoc()) {
                if (live == null || live.get(d)) {
                    n++;
                    break;
                }
            }
        }
        return n;
    }

    /** Every symbol term with at least one live point (terms of deleted points linger until a merge: counted out). */
    @Override
    public java.util.Set<String> symbols() {
        IndexSearcher searcher = acquire();
        try {
            java.util.Set<String> out = new java.util.TreeSet<>();
            org.apache.lucene.index.Terms terms = org.apache.lucene.index.MultiTerms.getTerms(searcher.getIndexReader(), SYMBOL);
            if (terms == null) return out;
            org.apache.lucene.index.TermsEnum it = terms.iterator();
            for (org.apache.lucene.util.BytesRef t = it.next(); t != null; t = it.next()) {
                String symbol = t.utf8ToString();
                if (searcher.count(new org.apache.lucene.search.TermQuery(new org.apache.lucene.index.Term(SYMBOL, symbol))) > 0) out.add(symbol);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": listing symbols failed", e);
        } finally {
            release(searcher);
        }
    }

    /** Merges the index down to {@code maxSegments} segments (one HNSW graph each, so fewer graphs to search), then commits. */
    public void forceMerge(int maxSegments) {
        IndexWriter w = writable();
        try {
            w.forceMerge(maxSegments);
            w.commit();
            changes.incrementAndGet();
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": merging failed", e);
        }
    }

    /** How many segments (HNSW graphs) a search visits now. */
    public int segments() {
        IndexSearcher searcher = acquire();
        try {
            return searcher.getIndexReader().leaves().size();
        } finally {
            release(searcher);
        }
    }

    @Override
    public void commit() {
        IndexWriter w = writable();
        try {
            w.commit();
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": commit failed; points since the last commit are not durable", e);
        }
    }

    private IndexWriter writable() {
        if (writer == null) throw new IllegalStateException(dir + ": opened read-only: cannot write points");
        return writer;
    }

    /** A searcher that sees every change made before this call (writer) or a commit at most 200 ms old (read-only). */
    private IndexSearcher acquire() {
        try {
            if (writer != null) {
                long seen = changes.get();
                if (refreshedAt.get() != seen) {
                    searchers.maybeRefreshBlocking();
                    refreshedAt.accumulateAndGet(seen, Math::max);
                }
            } else {
                long now = System.nanoTime() / 1_000_000;
                if (now - lastReadOnlyCheck >= READ_ONLY_REFRESH_MS) {
                    searchers.maybeRefresh();
                    lastReadOnlyCheck = now;
                }
            }
            return searchers.acquire();
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": refreshing the index reader failed", e);
        }
    }

    private void release(IndexSearcher searcher) {
        try {
            searchers.release(searcher);
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": releasing an index reader failed", e);
        }
    }

    /** Commits what was upserted (when writable) and closes. */
    @Override
    public void close() {
        try {
            searchers.close();
            if (writer != null) writer.close();
            directory.close();
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": closing the index failed", e);
        }
    }

    private static void closeQuietly(IndexWriter writer, Directory directory) {
        try {
            if (writer != null) writer.rollback();
        } catch (IOException | RuntimeException ignored) {
            // already failing with a more useful error
        }
        try {
            if (directory != null) directory.close();
        } catch (IOException ignored) {
            // same
        }
    }

    Map<String, String> commitData() throws IOException {
        return new HashMap<>(SegmentInfos.readLatestCommit(directory).getUserData());
    }
}
