// The advisor as a chat: each turn POSTs /v1/advice/stream (the last three exchanges go with it as history) and
// streams the answer in; Stop aborts the request, which cancels the generation on the server.
const ANY_TIME = 'all';
const conversation = JSON.parse(sessionStorage.getItem('finadvisor.conversation') || '[]');
let running = null; // the AbortController of the answer being streamed

const about = $('about');
about.value = localStorage.getItem('finadvisor.about_me') || '';
about.addEventListener('input', () => localStorage.setItem('finadvisor.about_me', about.value));
$('since').value = sessionStorage.getItem('finadvisor.since') || '7d';
$('since').addEventListener('change', () => sessionStorage.setItem('finadvisor.since', $('since').value));
bindApiKeyField($('key'), loadModels);

function save() {
  sessionStorage.setItem('finadvisor.conversation', JSON.stringify(conversation));
}

function sinceText(value) {
  const option = [...$('since').options].find(o => o.value === value);
  return option ? option.text : value;
}

/** One turn as the page shows it: the question, the answer, then its sources or why there are none. */
function renderTurn(turn, index) {
  const li = el('li', {class: 'turn', 'data-state': turn.state});
  li.append(el('div', {class: 'question', 'aria-label': 'question'}, turn.question));
  if (turn.answer || turn.state !== 'error') li.append(el('div', {class: 'answer', 'aria-label': 'answer'}, turn.answer));
  if (turn.error) li.append(el('p', {class: 'error'}, turn.error));
  if (turn.sources && turn.sources.length) {
    const list = el('ol', {class: 'sources', 'aria-label': 'sources'});
    for (const s of turn.sources) {
      const tickers = s.symbols && s.symbols.length ? ' · ' + s.symbols.join(', ') : '';
      const score = typeof s.score === 'number' ? ' · score ' + s.score.toFixed(2) : '';
      list.append(el('li', {class: 'source'},
        articleLink(s.url, s.headline),
        el('span', {class: 'meta'}, ' ' + when(s.created_at) + tickers + score)));
    }
    li.append(list);
  } else if (turn.retrieval && turn.retrieval.matched === 0) { // said, not silent, with a way to widen the window
    const symbols = turn.retrieval.symbols && turn.retrieval.symbols.length ? ` (${turn.retrieval.symbols.join(', ')})` : '';
    const line = el('p', {class: 'nonews meta'},
      `No news from ${sinceText(turn.since)} matched the question${symbols}; the answer stands on no news. `);
    if (turn.since !== ANY_TIME && index === conversation.length - 1) {
      const widen = el('button', {type: 'button', class: 'secondary widen'}, 'Ask again with news from any time');
      widen.addEventListener('click', () => {
        conversation.pop();
        $('since').value = ANY_TIME;
        sessionStorage.setItem('finadvisor.since', ANY_TIME);
        ask(turn.question);
      });
      line.append(widen);
    }
    li.append(line);
  }
  if (turn.meta) li.append(el('p', {class: 'meta info'}, turn.meta));
  return li;
}

function render() {
  $('conversation').replaceChildren(...conversation.map(renderTurn));
}

function setRunning(controller) {
  running = controller;
  $('go').disabled = !!controller;
  $('stop').disabled = !controller;
}

async function ask(question) {
  $('status').textContent = '';
  // Finished exchanges only (a stopped or failed answer, or an empty one, is not history); the server keeps its last few.
  const history = conversation.filter(t => t.state === 'done' && t.answer.trim()).slice(-3)
    .map(t => ({question: t.question, answer: t.answer}));
  const turn = {question, answer: '', state: 'running', since: $('since').value};
  conversation.push(turn);
  render();
  const node = $('conversation').lastElementChild, answer = node.querySelector('.answer');
  node.scrollIntoView({block: 'nearest'});
  const controller = new AbortController();
  setRunning(controller);
  const body = {about_me: about.value, question, history, options: {since: turn.since}};
  if (!$('model-box').hidden) body.adapter = $('model').value;
  try {
    const res = await api('/v1/advice/stream', {method: 'POST', body: JSON.stringify(body), signal: controller.signal});
    await readEvents(res, (event, data) => {
      if (event === 'token') {
        turn.answer += data.delta;
        answer.textContent = turn.answer;
      } else if (event === 'error') {
        throw new ApiError(0, data);
      } else if (event === 'done') {
        Object.assign(turn, {answer: data.answer, sources: data.sources, retrieval: data.retrieval, state: 'done',
          meta: `${body.adapter ? body.adapter + ' · ' : ''}${data.usage.completion_tokens} tokens (${data.finish_reason}) · ` +
            `retrieval ${data.timings.retrieval_ms} ms, generation ${data.timings.generation_ms} ms · ${data.request_id}`});
      }
    });
    if (turn.state === 'running') turn.state = 'stopped'; // the stream ended without its done event
  } catch (e) {
    if (e.name === 'AbortError') {
      turn.state = 'stopped';
    } else {
      turn.state = 'error';
      turn.error = e.message;
    }
  } finally {
    setRunning(null);
    save();
    render();
  }
}

$('ask').addEventListener('submit', e => {
  e.preventDefault();
  const question = $('question').value.trim();
  if (!question || running) return;
  if (!about.value.trim()) {
    $('status').textContent = 'Say a few words about yourself first (age, savings, appetite for risk, goal).';
    about.focus();
    return;
  }
  $('question').value = '';
  ask(question);
});
$('question').addEventListener('keydown', e => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    $('ask').requestSubmit();
  }
});
$('stop').addEventListener('click', () => running && running.abort());
$('new').addEventListener('click', () => {
  if (running) running.abort();
  conversation.length = 0;
  save();
  render();
  $('question').focus();
});

/** The adapter picker, shown when the server serves more than one model; while the server loads, it looks again. */
let modelsRetry = null;
async function loadModels() {
  clearTimeout(modelsRetry);
  try {
    const models = (await apiJson('/v1/models')).data;
    $('status').textContent = '';
    const picker = $('model'), kept = sessionStorage.getItem('finadvisor.model');
    picker.replaceChildren(...models.map(m => el('option', {value: m.id}, m.id + (m.adapter ? '' : ' (base model)'))));
    if (kept && models.some(m => m.id === kept)) picker.value = kept;
    $('model-box').hidden = models.length < 2;
  } catch (e) {
    $('status').textContent = e.message;
    if (e.status === 503) modelsRetry = setTimeout(loadModels, 2000); // still loading: look again
  }
}
$('model').addEventListener('change', () => sessionStorage.setItem('finadvisor.model', $('model').value));

render();
loadModels();
