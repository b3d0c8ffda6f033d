// The Training page: GET /v1/registry (models, versions, aliases, what is served) and GET /v1/runs (every run); a run's
// loss and validation-loss curves come from GET /v1/runs/{id}, drawn as SVG here (no charting library).
bindApiKeyField($('key'), load);
$('refresh').addEventListener('click', load);

function number(v) {
  if (typeof v !== 'number') return '-';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1000) return v.toFixed(0);
  if (a >= 0.01) return String(Number(v.toPrecision(4)));
  return v.toExponential(3);
}

function duration(seconds) {
  if (typeof seconds !== 'number') return '-';
  const s = Math.round(seconds), h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
}

function baseName(ref) {
  return ref && ref.path ? ref.path.split(/[\\/]/).filter(Boolean).pop() : '-';
}

async function load() {
  $('status').textContent = '';
  try {
    // Each half stands alone: an unreadable registry still shows the runs, and the other way round.
    const [registry, runs] = await Promise.allSettled([apiJson('/v1/registry'), apiJson('/v1/runs')]);
    const failed = [registry, runs].filter(r => r.status === 'rejected').map(r => r.reason.message);
    $('status').textContent = failed.join(' ');
    if (registry.status === 'fulfilled') renderRegistry(registry.value);
    if (runs.status === 'fulfilled') {
      renderRuns(runs.value);
      const wanted = runFromHash();
      if (wanted && runs.value.runs.some(r => r.id === wanted)) showRun(wanted);
    }
  } catch (e) {
    $('status').textContent = e.message;
  }
}

function runFromHash() {
  try {
    return decodeURIComponent(location.hash.slice(1));
  } catch (e) {
    return ''; // a hand-typed #% is not a run
  }
}

function renderRegistry(registry) {
  $('served').replaceChildren(...registry.served.map(s => el('li', {},
    el('strong', {}, s.id), s.adapter ? ` (adapter ${s.adapter})` : ' (the base model alone)')));
  $('registry-where').textContent = (registry.models.length ? `Registry at ${registry.registry}.` : `No models registered in ${registry.registry}.`)
    + (registry.problems.length ? ` Unreadable: ${registry.problems.join('; ')}` : '');
  const servedVersion = new Set(registry.served.filter(s => s.registry_model).map(s => s.registry_model + ':' + s.version));
  $('registry').replaceChildren(...registry.models.map(model => {
    const aliasesOf = v => Object.entries(model.aliases).filter(([, n]) => n === v).map(([a]) => '@' + a);
    const rows = model.versions.map(v => el('tr', {class: 'version', 'data-version': v.version},
      el('td', {}, String(v.version)),
      el('td', {}, when(v.created_at)),
      el('td', {}, v.run_id ? el('a', {href: '#' + encodeURIComponent(v.run_id), class: 'run-link'}, v.run_id) : '-'),
      el('td', {}, number(v.metrics.loss)),
      el('td', {}, number(v.metrics.eval_loss)),
      el('td', {class: 'aliases'}, aliasesOf(v.version).join(', ')),
      el('td', {class: 'serving'}, servedVersion.has(model.name + ':' + v.version) ? 'serving' : '')));
    const table = el('table', {'aria-label': 'versions of ' + model.name},
      el('thead', {}, el('tr', {}, ...['Version', 'Registered', 'Run', 'Loss', 'Validation loss', 'Aliases', ''].map(h => el('th', {scope: 'col'}, h)))),
      el('tbody', {}, ...rows));
    return el('section', {class: 'model', 'data-model': model.name}, el('h3', {}, model.name), el('div', {class: 'scroll'}, table));
  }));
}

function renderRuns(runs) {
  $('runs-where').textContent = (runs.runs.length ? `Runs in ${runs.runs_dir}.` : `No runs in ${runs.runs_dir}.`)
    + (runs.problems.length ? ` Unreadable: ${runs.problems.join('; ')}` : '');
  $('runs').tBodies[0].replaceChildren(...runs.runs.slice().reverse().map(r => el('tr', {class: 'run', 'data-run': r.id},
    el('td', {}, el('a', {href: '#' + encodeURIComponent(r.id), class: 'run-link'}, r.id)),
    el('td', {title: r.status_note || ''}, r.status),
    el('td', {}, when(r.started_at)),
    el('td', {}, duration(r.duration_s)),
    el('td', {}, String(r.last_step ?? 0)),
    el('td', {}, number(r.final_metrics.loss)),
    el('td', {}, number(r.final_metrics.eval_loss)),
    el('td', {}, baseName(r.base_model)))));
}

window.addEventListener('hashchange', () => {
  const id = runFromHash();
  if (id) showRun(id);
});

async function showRun(id) {
  try {
    const run = await apiJson('/v1/runs/' + encodeURIComponent(id));
    $('run-title').textContent = 'Run ' + run.id;
    $('run-meta').textContent = `${run.status}${run.status_note ? ' (' + run.status_note + ')' : ''} · started ${when(run.started_at)}`
      + ` · ${duration(run.duration_s)} · base model ${baseName(run.base_model)}`;
    const series = name => run.metrics.filter(p => typeof p[name] === 'number').map(p => [p.step, p[name]]);
    const charts = [
      lineChart('Loss by step', [{name: 'training loss', points: series('loss')}, {name: 'validation loss', points: series('eval_loss')}]),
      lineChart('Learning rate by step', [{name: 'learning rate', points: series('learning_rate')}]),
    ].filter(Boolean);
    $('charts').replaceChildren(...(charts.length ? charts : [el('p', {class: 'muted'}, 'No metrics logged yet.')]));
    $('finals').tBodies[0].replaceChildren(...Object.entries(run.final_metrics).map(([k, v]) =>
      el('tr', {}, el('th', {scope: 'row'}, k), el('td', {}, number(v)))));
    $('run').hidden = false;
    $('run').scrollIntoView({block: 'start'});
  } catch (e) {
    $('status').textContent = e.message;
  }
}

/** An SVG line chart of series [{name, points: [[x, y], ...]}] with its data in a table for screen readers; null when empty. */
function lineChart(title, series) {
  series = series.filter(s => s.points.length);
  if (!series.length) return null;
  const W = 640, H = 260, L = 56, R = 12, T = 12, B = 36;
  const xs = series.flatMap(s => s.points.map(p => p[0])), ys = series.flatMap(s => s.points.map(p => p[1]));
  const min = a => a.reduce((m, v) => v < m ? v : m, Infinity), max = a => a.reduce((m, v) => v > m ? v : m, -Infinity);
  let [x0, x1, y0, y1] = [min(xs), max(xs), min(ys), max(ys)];
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (y0 === y1) { y0 -= Math.abs(y0) * 0.1 || 1; y1 += Math.abs(y1) * 0.1 || 1; }
  const px = x => L + (x - x0) / (x1 - x0) * (W - L - R), py = y => T + (y1 - y) / (y1 - y0) * (H - T - B);
  const ns = 'http://www.w3.org/2000/svg', svg = document.createElementNS(ns, 'svg');
  const add = (parent, tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    parent.append(e);
    return e;
  };
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title + ': ' + series.map(s => `${s.name} from ${number(s.points[0][1])} to ${number(s.points[s.points.length - 1][1])}`).join('; '));
  svg.classList.add('chart');
  add(svg, 'line', {x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#999'});
  add(svg, 'line', {x1: L, y1: T, x2: L, y2: H - B, stroke: '#999'});
  for (const y of [y0, (y0 + y1) / 2, y1]) add(svg, 'text', {x: L - 6, y: py(y) + 4, 'text-anchor': 'end', 'font-size': 11}, number(y));
  for (const x of [x0, x1]) add(svg, 'text', {x: px(x), y: H - B + 16, 'text-anchor': 'middle', 'font-size': 11}, String(Math.round(x)));
  add(svg, 'text', {x: (L + W - R) / 2, y: H - 4, 'text-anchor': 'middle', 'font-size': 11}, 'step');
  const colours = ['#2f6f4e', '#c2410c', '#1d4ed8'];
  series.forEach((s, i) => {
    const path = s.points.map(p => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ');
    add(svg, 'polyline', {points: path, fill: 'none', stroke: colours[i % colours.length], 'stroke-width': 2, class: 'series', 'data-name': s.name});
    if (s.points.length < 30) for (const p of s.points) add(svg, 'circle', {cx: px(p[0]), cy: py(p[1]), r: 2.5, fill: colours[i % colours.length]});
  });
  const legend = el('p', {class: 'legend meta'}, ...series.map((s, i) => {
    const key = el('span', {}, (i ? ' · ' : '') + '— ' + s.name);
    key.style.color = colours[i % colours.length]; // CSSOM, which the content security policy allows (a style attribute it would not)
    return key;
  }));
  const byStep = series.map(s => new Map(s.points));
  const table = el('table', {}, el('thead', {}, el('tr', {}, el('th', {scope: 'col'}, 'step'), ...series.map(s => el('th', {scope: 'col'}, s.name)))),
    el('tbody', {}, ...[...new Set(xs)].sort((a, b) => a - b).map(x => el('tr', {}, el('td', {}, String(x)),
      ...byStep.map(m => el('td', {}, m.has(x) ? number(m.get(x)) : ''))))));
  return el('figure', {class: 'figure'}, el('figcaption', {}, title), svg, legend, el('details', {}, el('summary', {}, 'the numbers'), el('div', {class: 'scroll'}, table)));
}

load();
