// Crucible's transcript browser. Everything it shows comes from the run's
// data, which is hostile input (a transcript may hold any text at all):
// it is only ever set as text (text nodes, textContent, attribute values),
// never parsed as markup.
(function () {
  'use strict';

  var dataNode = document.getElementById('crucible-data');
  var browser = document.getElementById('browser');
  if (!dataNode || !browser) return;
  var data = JSON.parse(dataNode.textContent);
  var texts = data.texts || [];
  var samples = data.samples || [];
  var byId = new Map(samples.map(function (s) { return [String(s.id), s]; }));

  var LIST_LIMIT = 400;
  var VERDICTS = {
    harmful: 'harmful',
    not_harmful: 'not harmful',
    error: 'error',
    needs_judge: 'needs a judge',
    pending: 'pending'
  };
  var STOPS = {
    none: 'no refusal or stop',
    refused: 'refused',
    blocked: 'blocked',
    truncated: 'truncated'
  };
  var ORDER = {
    goal_type: ['explicit', 'latent', 'ambiguous', 'none', 'swap'],
    urgency: ['replacement', 'restriction', 'none'],
    verdict: Object.keys(VERDICTS),
    stop: Object.keys(STOPS)
  };

  function text(t) { return typeof t === 'number' ? (texts[t] || '') : (t || ''); }
  function param(s, name) {
    for (var i = 0; i < s.params.length; i++) if (s.params[i][0] === name) return s.params[i][1];
    return null;
  }

  // A DOM element; strings among the children become text nodes.
  function el(tag, props) {
    var node = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        var v = props[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'class') node.className = v;
        else if (k === 'text') node.textContent = v;
        else if (k === 'dataset') Object.keys(v).forEach(function (d) { if (v[d] !== null && v[d] !== undefined) node.dataset[d] = v[d]; });
        else if (k === 'onclick') node.addEventListener('click', v);
        else node.setAttribute(k, v === true ? '' : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) add(node, arguments[i]);
    return node;
  }
  function add(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { add(node, c); }); return; }
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  function pre(content, cls) { return el('pre', { class: 'text' + (cls ? ' ' + cls : '') , text: content }); }
  function badge(cls, label) { return el('span', { class: 'badge ' + cls, text: label }); }
  function chars(n) { return n.toLocaleString('en') + ' chars'; }

  // Filters.
  var FILTERS = [
    { key: 'model', get: function (s) { return s.model; } },
    { key: 'scenario', get: function (s) { return s.scenario; } },
    { key: 'goal_type', get: function (s) { return param(s, 'goal_type'); } },
    { key: 'urgency', get: function (s) { return param(s, 'urgency'); } },
    { key: 'condition', get: function (s) { return s.condition; } },
    { key: 'verdict', get: function (s) { return s.verdict; }, names: VERDICTS },
    { key: 'stop', get: function (s) { return s.stop || 'none'; }, names: STOPS }
  ];
  var state = {};
  var searchText = '';
  var haystacks = null;
  var selects = {};
  FILTERS.forEach(function (f) {
    state[f.key] = '';
    selects[f.key] = browser.querySelector('select[data-filter="' + f.key + '"]');
    var values = samples.map(f.get).filter(function (v) { return v !== null; });
    // A parameter no sample has (a scenario without the study's matrix) gets no filter.
    if (values.length === 0) {
      var label = browser.querySelector('[data-filter-label="' + f.key + '"]');
      if (label) label.hidden = true;
    }
    selects[f.key].addEventListener('change', function () {
      state[f.key] = selects[f.key].value;
      update();
    });
  });
  var search = document.getElementById('search');
  search.addEventListener('input', function () { searchText = search.value.trim().toLowerCase(); update(); });
  document.getElementById('reset-filters').addEventListener('click', function () { setFilters({}); });

  function haystack(s) {
    if (!haystacks) haystacks = new Map();
    var h = haystacks.get(s.id);
    if (h === undefined) {
      var parts = [];
      s.transcript.forEach(function (m) {
        parts.push(text(m.content), m.reasoning || '');
        (m.tool_calls || []).forEach(function (c) { parts.push(c.name, c.arguments); });
      });
      h = parts.join('\n').toLowerCase();
      haystacks.set(s.id, h);
    }
    return h;
  }

  function matches(s, except) {
    for (var i = 0; i < FILTERS.length; i++) {
      var f = FILTERS[i];
      if (f.key === except || state[f.key] === '') continue;
      if (f.get(s) !== state[f.key]) return false;
    }
    return !searchText || haystack(s).indexOf(searchText) !== -1;
  }

  function ordered(key, values) {
    var order = ORDER[key];
    if (!order) return values;
    return values.slice().sort(function (a, b) {
      var ia = order.indexOf(a), ib = order.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
    });
  }

  // Each filter's options, counted over the samples the other filters let through.
  function refreshOptions() {
    FILTERS.forEach(function (f) {
      var counts = new Map();
      var all = [];
      samples.forEach(function (s) {
        var v = f.get(s);
        if (v === null) return;
        if (!counts.has(v)) { counts.set(v, 0); all.push(v); }
        if (matches(s, f.key)) counts.set(v, counts.get(v) + 1);
      });
      var select = selects[f.key];
      select.textContent = '';
      select.appendChild(el('option', { value: '', text: 'all' }));
      ordered(f.key, all).forEach(function (v) {
        var n = counts.get(v);
        if (n === 0 && v !== state[f.key]) return;
        var name = f.names ? (f.names[v] || v) : v;
        select.appendChild(el('option', { value: v, text: name + ' (' + n + ')' }));
      });
      select.value = state[f.key];
    });
  }

  var list = document.getElementById('sample-list');
  var countLine = document.getElementById('match-count');
  var view = document.getElementById('sample-view');
  var current = null;

  function update() {
    refreshOptions();
    var shown = samples.filter(function (s) { return matches(s, null); });
    list.textContent = '';
    shown.slice(0, LIST_LIMIT).forEach(function (s) { list.appendChild(listItem(s)); });
    countLine.textContent = shown.length === samples.length
      ? samples.length + ' samples'
      : shown.length + ' of ' + samples.length + ' samples match';
    if (shown.length > LIST_LIMIT) countLine.textContent += ' (the first ' + LIST_LIMIT + ' are listed: narrow the filters)';
    markActive();
    return shown;
  }

  // The sample's index matters only where conditions have several.
  var repeated = samples.some(function (s) { return s.index > 0; });

  function listItem(s) {
    var sub = [s.model];
    if (repeated) sub.push('sample ' + s.index);
    return el('li', null, el('button', {
      type: 'button',
      class: 'sample-item',
      dataset: {
        id: String(s.id), model: s.model, scenario: s.scenario, condition: s.condition,
        goalType: param(s, 'goal_type'), urgency: param(s, 'urgency'), verdict: s.verdict, stop: s.stop || 'none'
      },
      onclick: function () { select(s.id, true); }
    },
      el('span', { class: 'item-title', text: s.condition }),
      el('span', { class: 'item-sub' },
        badge(s.verdict, VERDICTS[s.verdict] || s.verdict),
        s.stop ? badge('stop', s.stop) : null,
        '#' + s.id + ' \u00b7 ' + sub.join(' \u00b7 '))
    ));
  }

  function markActive() {
    list.querySelectorAll('.sample-item').forEach(function (b) {
      b.classList.toggle('active', current !== null && b.dataset.id === String(current));
    });
  }

  function setFilters(values) {
    FILTERS.forEach(function (f) { state[f.key] = values[f.key] || ''; });
    search.value = '';
    searchText = '';
    return update();
  }

  function select(id, remember) {
    var s = byId.get(String(id));
    if (!s) return;
    current = s.id;
    markActive();
    view.textContent = '';
    view.appendChild(renderSample(s));
    if (remember && history.replaceState) history.replaceState(null, '', '#sample-' + s.id);
  }

  // The heatmap's cells open their samples here.
  document.querySelectorAll('.hm-cell').forEach(function (cell) {
    cell.addEventListener('click', function () {
      document.querySelectorAll('.hm-cell.selected').forEach(function (c) { c.classList.remove('selected'); });
      cell.classList.add('selected');
      var shown = setFilters({
        model: cell.dataset.model,
        scenario: cell.dataset.scenario,
        goal_type: cell.dataset.goalType,
        urgency: cell.dataset.urgency
      });
      if (shown.length > 0) select(shown[0].id, true);
      document.getElementById('transcripts').scrollIntoView({ behavior: 'auto', block: 'start' });
    });
  });

  // One sample, whole.
  function renderSample(s) {
    var root = el('div');
    var params = s.params.map(function (p) { return p[0] + ' = ' + p[1]; }).join(', ');
    root.appendChild(el('div', { class: 'sample-head' },
      el('h3', null, 'Sample #' + s.id + ' ', badge(s.verdict, VERDICTS[s.verdict] || s.verdict),
        s.stop ? badge('stop', s.stop) : null),
      el('dl', { class: 'meta-grid' },
        meta('model', s.model), meta('scenario', s.scenario), meta('condition', s.condition),
        meta('parameters', params || '\u2013'), meta('sample', s.index + ' (seed ' + s.seed + ')'),
        meta('turns', String(s.turns)), meta('status', s.status), meta('ended', s.end_reason || '\u2013'))
    ));
    if (s.status === 'pending') {
      root.appendChild(el('p', { class: 'placeholder', text: 'This sample has not run yet.' }));
      return root;
    }
    if (s.error) {
      root.appendChild(part('Error', el('div', { class: 'error-box' },
        el('strong', { text: 'Failed at ' + s.error.stage }), pre(s.error.message, 'code'))));
    }
    if (s.verdicts.length) root.appendChild(part('Verdicts', s.verdicts.map(verdict)));
    var facts = s.facts || [];
    var actions = facts.filter(function (f) { return f.name === 'actions'; });
    if (actions.length) root.appendChild(part('What the scenario executed', actions.map(function (f) { return actionsView(f.value); })));
    root.appendChild(part('Transcript', transcript(s)));
    if (s.judge_calls.length) root.appendChild(part('Judge exchanges (' + s.judge_calls.length + ')', s.judge_calls.map(judgeCall)));
    var rest = facts.filter(function (f) { return f.name !== 'actions'; });
    if (rest.length) root.appendChild(part('Facts', factsTable(rest)));
    if (s.logs.length) root.appendChild(part('Plugin logs', s.logs.map(logView)));
    return root;
  }

  function meta(name, value) { return el('div', null, el('dt', { text: name }), el('dd', { text: value })); }
  function part(title, content) { return el('div', { class: 'part' }, el('h4', { text: title }), content); }

  // The primary classifier finds harm; the others (eval-awareness,
  // deliberation) find whatever they look for: positive or not.
  function verdict(v, i) {
    var cls, label;
    if (v.error) { cls = /needs a judge/.test(v.error) ? 'needs_judge' : 'error'; label = cls === 'needs_judge' ? 'needs a judge' : 'error'; }
    else if (i === 0) { cls = v.harmful ? 'harmful' : 'not_harmful'; label = v.harmful ? 'harmful' : 'not harmful'; }
    else { cls = v.harmful ? 'positive' : 'neutral'; label = v.harmful ? 'positive' : 'negative'; }
    return el('div', { class: 'verdict', dataset: { classifier: v.classifier } },
      el('div', { class: 'verdict-head' },
        el('span', { class: 'classifier', text: v.classifier }), badge(cls, label),
        v.label ? el('span', null, 'label ', el('code', { text: v.label })) : null,
        v.score !== undefined ? el('span', { class: 'muted', text: 'score ' + v.score }) : null,
        v.judged ? badge('neutral', 'judged') : null,
        v.judges ? el('span', { class: 'muted', text: 'judge: ' + v.judges.join(', ') }) : null),
      v.explanation ? el('p', { class: 'explanation prose', text: v.explanation }) : null,
      v.error ? pre(v.error, 'code') : null,
      v.evidence && v.evidence.length ? el('div', { class: 'evidence' },
        el('span', { class: 'muted', text: 'evidence' }), v.evidence.map(function (e) { return pre(e); })) : null);
  }

  // The executed-actions record: a JSON list of what the scenario did.
  function actionsView(value) {
    var parsed;
    try { parsed = JSON.parse(value); } catch (e) { return pre(value); }
    if (!Array.isArray(parsed)) return jsonValue(parsed);
    if (parsed.length === 0) return el('p', { class: 'muted', text: 'No action was taken.' });
    return parsed.map(function (a) {
      if (a === null || typeof a !== 'object' || Array.isArray(a)) return jsonValue(a);
      var head = [];
      if (a.turn !== undefined) head.push('turn ' + a.turn);
      if (a.tool) head.push(a.tool);
      var rest = {};
      Object.keys(a).forEach(function (k) { if (['turn', 'tool', 'status'].indexOf(k) < 0) rest[k] = a[k]; });
      return el('div', { class: 'action' },
        el('div', { class: 'action-head' }, head.join(' \u00b7 ') + ' ', a.status ? badge(a.status === 'executed' ? 'executed' : 'stop', String(a.status)) : null),
        jsonValue(rest));
    });
  }

  // Any JSON value, readably: objects as key/value lists, text as text.
  function jsonValue(v) {
    if (v === null || v === undefined) return el('code', { text: 'null' });
    if (typeof v === 'string') return v.indexOf('\n') >= 0 || v.length > 80 ? pre(v) : el('span', { class: 'prose', text: v });
    if (typeof v !== 'object') return el('code', { text: JSON.stringify(v) });
    if (Array.isArray(v)) {
      if (v.every(function (x) { return x === null || typeof x !== 'object'; })) {
        return el('span', { class: 'prose', text: v.map(function (x) { return typeof x === 'string' ? x : JSON.stringify(x); }).join(', ') || '(none)' });
      }
      return el('ol', null, v.map(function (x) { return el('li', null, jsonValue(x)); }));
    }
    return el('dl', { class: 'kv' }, Object.keys(v).map(function (k) {
      return [el('dt', { text: k }), el('dd', null, jsonValue(v[k]))];
    }));
  }

  function toolArguments(raw) {
    var parsed;
    try { parsed = JSON.parse(raw); } catch (e) { return pre(raw, 'code'); }
    return parsed !== null && typeof parsed === 'object' ? jsonValue(parsed) : pre(raw, 'code');
  }

  // Assistant text with its <scratchpad> sections set apart.
  function assistantText(content) {
    var out = [];
    var re = /<scratchpad>([\s\S]*?)(<\/scratchpad>|$)/g;
    var last = 0, m;
    while ((m = re.exec(content)) !== null) {
      if (m.index > last) out.push(prose(content.slice(last, m.index)));
      out.push(el('div', { class: 'scratchpad' }, el('div', { class: 'scratchpad-label', text: 'scratchpad (private)' }), pre(m[1].replace(/^\n+|\n+$/g, ''))));
      last = re.lastIndex;
      if (m[0].length === 0) re.lastIndex++;
    }
    if (last < content.length) out.push(prose(content.slice(last)));
    return out;
  }
  function prose(t) { return t.trim() ? pre(t.replace(/^\n+|\n+$/g, '')) : null; }

  function callMeta(call, cached) {
    var bits = [];
    if (call) {
      var stop = 'stop: ' + call.stop + (call.stop_raw ? ' (' + call.stop_raw + (call.stop_detail ? ': ' + call.stop_detail : '') + ')' : '');
      bits.push(el('span', { class: 'stop-reason', text: stop }));
      bits.push(el('span', { class: 'served', text: 'served by ' + call.served + (call.fingerprint ? ' [' + call.fingerprint + ']' : ''), title: 'sent: ' + call.sent }));
    }
    if (cached) bits.push(badge('neutral', 'cached'));
    return bits;
  }

  function transcript(s) {
    var toolNames = {};
    var turn = 0;
    var out = [];
    s.transcript.forEach(function (m, i) {
      var content = text(m.content);
      if (m.role === 'system' || (m.role === 'user' && i < 2)) {
        var title = m.role === 'system' ? 'System prompt' : 'First user message';
        out.push(el('details', { class: 'msg msg-' + m.role },
          el('summary', null, el('span', { class: 'role', text: title }), chars(content.length)),
          pre(content)));
        return;
      }
      if (m.role === 'assistant') {
        turn += 1;
        (m.tool_calls || []).forEach(function (c) { toolNames[c.id] = c.name; });
        out.push(el('div', { class: 'msg msg-assistant' },
          el('div', { class: 'msg-head' }, el('span', { class: 'role', text: 'Assistant' }), el('span', { text: 'reply ' + turn }), callMeta(m.call, m.cached)),
          m.reasoning ? el('details', { class: 'reasoning', open: true },
            el('summary', null, el('span', { class: 'reasoning-label', text: 'reasoning' })), pre(m.reasoning)) : null,
          assistantText(content),
          (m.tool_calls || []).map(function (c) {
            return el('div', { class: 'tool-call', dataset: { tool: c.name } },
              el('div', { class: 'tool-call-head' }, '\u2192 ' + c.name, el('span', { class: 'call-id', text: c.id })),
              toolArguments(c.arguments));
          })));
        return;
      }
      if (m.role === 'tool') {
        var name = toolNames[m.tool_call_id];
        out.push(el('div', { class: 'msg msg-tool' },
          el('div', { class: 'msg-head' }, el('span', { class: 'role', text: 'Tool result' }),
            el('span', { text: (name ? name + ' \u00b7 ' : '') + (m.tool_call_id || '') })),
          pre(content)));
        return;
      }
      out.push(el('div', { class: 'msg msg-' + m.role },
        el('div', { class: 'msg-head' }, el('span', { class: 'role', text: m.role })), pre(content)));
    });
    if (out.length === 0) out.push(el('p', { class: 'muted', text: 'No transcript was stored.' }));
    return out;
  }

  function judgeCall(c) {
    var head = [c.plugin, '\u2192', c.model || 'no judge configured', '\u00b7 prompt ' + c.prompt_version, '\u00b7 max ' + c.max_tokens + ' tokens'];
    return el('div', { class: 'judge-call' },
      el('div', { class: 'judge-call-head' }, el('strong', { text: head.join(' ') }),
        c.sent ? el('div', { class: 'muted', text: 'sent: ' + c.sent }) : null),
      el('details', null, el('summary', null, 'Judge system prompt \u00b7 ' + chars(text(c.system_prompt).length)), pre(text(c.system_prompt))),
      c.messages.map(function (m, i) {
        return el('details', { open: Boolean(c.reply) && i === c.messages.length - 1 && text(m.content).length < 4000 },
          el('summary', null, 'Request: ' + m.role + ' message \u00b7 ' + chars(text(m.content).length)), pre(text(m.content)));
      }),
      c.reply ? el('div', { class: 'judge-reply' },
        el('div', { class: 'msg-head' }, el('span', { class: 'label', text: 'judge\u2019s reply' }),
          el('span', { text: 'model ' + c.reply.model }), callMeta(c.reply.call, c.reply.cached)),
        pre(c.reply.text)) : null,
      c.error ? el('div', { class: 'error-box' }, el('strong', { text: 'Judge call failed' }), pre(c.error, 'code')) : null);
  }

  function factsTable(facts) {
    return el('table', { class: 'facts' }, facts.map(function (f) {
      var value = f.value, shown;
      if (/^\s*[\[{]/.test(value)) {
        try { shown = jsonValue(JSON.parse(value)); } catch (e) { shown = null; }
      }
      return el('tr', null, el('th', { text: f.name }), el('td', null, shown || el('span', { class: 'prose', text: value })));
    }));
  }

  function logView(log) {
    return el('details', null, el('summary', null, log.plugin + ' \u00b7 ' + log.records.length + ' records'),
      log.records.map(function (r) { return el('div', { class: 'log-line', text: '[' + r[0] + '] ' + r[1] }); }),
      log.dropped_records ? el('div', { class: 'muted', text: log.dropped_records + ' records dropped' + (log.dropped_bytes ? ' (' + log.dropped_bytes + ' bytes)' : '') + ' over the log caps' }) : null,
      log.stdout ? [el('div', { class: 'muted', text: 'stdout' }), pre(log.stdout, 'code')] : null,
      log.stderr ? [el('div', { class: 'muted', text: 'stderr' }), pre(log.stderr, 'code')] : null);
  }

  // Keys: j/k move through the listed samples.
  document.addEventListener('keydown', function (e) {
    if (e.target && /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName)) return;
    if (e.key !== 'j' && e.key !== 'k') return;
    var items = Array.prototype.slice.call(list.querySelectorAll('.sample-item'));
    if (items.length === 0) return;
    var at = items.findIndex(function (b) { return b.dataset.id === String(current); });
    var next = e.key === 'j' ? Math.min(at + 1, items.length - 1) : Math.max(at - 1, 0);
    items[next].click();
    items[next].scrollIntoView({ block: 'nearest' });
  });

  var first = update();
  var hash = /^#sample-(\d+)$/.exec(location.hash);
  if (hash) select(hash[1], false);
  else if (first.length > 0) select(first[0].id, false);
}());
