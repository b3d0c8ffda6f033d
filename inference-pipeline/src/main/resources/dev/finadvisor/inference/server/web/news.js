// The News page: GET /v1/news (what the store holds, how fresh, what the ingest job last reported) and
// GET /v1/news/search (the filters of `finadvisor search`). While an ingest job reports, it refreshes every 15 s.
bindApiKeyField($('key'), load);
$('refresh').addEventListener('click', load);
let timer = null;

function age(seconds) {
  if (typeof seconds !== 'number') return '';
  const s = Math.max(0, seconds);
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

function rows(table, pairs) {
  table.tBodies[0].replaceChildren(...pairs.map(([k, v]) => el('tr', {}, el('th', {scope: 'row'}, k), el('td', {}, v))));
}

async function load() {
  $('status').textContent = '';
  clearTimeout(timer);
  try {
    const news = await apiJson('/v1/news');
    rows($('store'), [
      ['kind', `${news.store} (${news.location})`],
      ['articles', news.articles === null ? 'unknown' : String(news.articles)],
      ['chunks', String(news.chunks)],
      ['newest article', news.newest_created_at ? `${when(news.newest_created_at)} (${age(news.newest_age_s)})` : news.chunks ? 'unknown' : 'none'],
      ['oldest article', news.oldest_created_at ? when(news.oldest_created_at) : news.chunks ? 'unknown' : 'none'],
    ]);
    const ingest = news.ingest;
    if (ingest.note) {
      $('ingest-state').textContent = `No ingest job has reported: ${ingest.note} (${ingest.metrics_file}).`;
      $('ingest').hidden = true;
    } else {
      $('ingest-state').textContent = ingest.running
        ? `An ingest job is running (last report ${age(ingest.age_s)}).`
        : `No ingest job is running; the last one reported ${age(ingest.age_s)}.`;
      const f = ingest.freshness_ms || {};
      rows($('ingest'), [
        ['articles', `${ingest.articles} (${ingest.articles_added} new, ${ingest.articles_replaced} replaced, ${ingest.articles_unchanged} unchanged)`],
        ['chunks', String(ingest.chunks)],
        ['rate', `${ingest.articles_per_s} articles/s, ${ingest.chunks_per_s} chunks/s`],
        ['freshness', f.samples ? `p50 ${f.p50} ms, p99 ${f.p99} ms, max ${f.max} ms (${f.samples} articles; from receipt to searchable)` : 'no articles yet'],
        ['dead letters', String(ingest.dead_letters)],
      ]);
      $('ingest').hidden = false;
      if (ingest.running) timer = setTimeout(load, 15000);
    }
  } catch (e) {
    $('status').textContent = e.message;
  }
}

$('search').addEventListener('submit', async e => {
  e.preventDefault();
  const params = new URLSearchParams({q: $('q').value});
  for (const name of ['since', 'symbols', 'k']) if ($(name).value.trim()) params.set(name, $(name).value.trim());
  $('search-status').textContent = 'Searching…';
  $('go').disabled = true;
  try {
    const {hits} = await apiJson('/v1/news/search?' + params);
    $('search-status').textContent = hits.length ? `${hits.length} hits, nearest first` : 'No news passes these filters.';
    $('hits').replaceChildren(...hits.map(h => el('li', {class: 'hit'},
      articleLink(h.url, h.headline || '(no headline)'),
      el('span', {class: 'meta'}, ` ${when(h.created_at)}${h.symbols.length ? ' · ' + h.symbols.join(', ') : ''} · score ${h.score.toFixed(3)}`),
      el('div', {class: 'muted'}, h.text.length > 240 ? h.text.slice(0, 239) + '…' : h.text))));
  } catch (err) {
    $('search-status').textContent = '';
    $('status').textContent = err.message;
  } finally {
    $('go').disabled = false;
  }
});

load();
