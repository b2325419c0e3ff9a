using Microsoft.AspNetCore.Http.HttpResults;

namespace PulseCart.Consumer.Ops;

/// <summary>
/// One static page over the <c>/ops</c> JSON: what flows (charts of the last hour drawn by the service), which carts
/// wait for a reminder, what was quarantined, why, grouped by cause (replay, discard, edit and replay; one entry or a
/// whole group or selection), the pause switch (pause and resume, each part's state, a missing role), who did what (the
/// audit), what was sent. No build step, no script from elsewhere; it
/// refreshes itself every five seconds (not the quarantine while an entry is being edited).
/// </summary>
public static class OperatorPage
{
    public static ContentHttpResult Get() => TypedResults.Content(Html, "text/html; charset=utf-8");

    private const string Html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>PulseCart operations</title>
        <style>
          body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d2433; }
          header { background: #1d2433; color: #fff; padding: 12px 24px; display: flex; gap: 24px; align-items: baseline; }
          header h1 { font-size: 18px; margin: 0; }
          header a { color: #9cc3ff; }
          #pause-control { margin-left: auto; display: flex; gap: 12px; align-items: baseline; }
          body.paused header { background: #7a4b00; }
          #pause-state { font-weight: 600; }
          .part-failed { color: #b00020; font-weight: 600; } .part-detached, .part-paused { color: #7a4b00; font-weight: 600; }
          .missing-role { color: #b00020; }
          main { padding: 16px 24px; display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
          section { background: #fff; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); overflow: auto; }
          section.wide { grid-column: 1 / -1; }
          h2 { font-size: 15px; margin: 0 0 8px; }
          table { border-collapse: collapse; width: 100%; }
          th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceef2; vertical-align: top; }
          th { font-weight: 600; color: #5b6478; }
          .tiles { display: flex; gap: 12px; flex-wrap: wrap; }
          .tile { padding: 8px 14px; border-radius: 6px; background: #eef2ff; min-width: 90px; }
          .tile b { display: block; font-size: 20px; }
          .quarantined { background: #fff1e6; } .failed, .unauthorised { background: #ffe8e8; }
          .charts { display: flex; gap: 16px; flex-wrap: wrap; }
          code, pre { font: 12px ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; margin: 0; }
          button { cursor: pointer; margin: 0 4px 2px 0; }
          .muted { color: #8a93a6; }
          .filters { display: flex; gap: 8px; flex-wrap: wrap; align-items: end; margin-bottom: 8px; }
          .filters label { display: flex; flex-direction: column; font-size: 12px; color: #5b6478; }
          #job { margin: 6px 0; font-weight: 600; }
          #editor { display: none; }
          #editor textarea { width: 100%; min-height: 220px; font: 12px ui-monospace, monospace; }
          .state-discarded { color: #8a93a6; } .state-replayed { color: #2f7d32; }
          td.actions { white-space: nowrap; min-width: 230px; }
        </style>
        </head>
        <body>
        <header><h1>PulseCart operations</h1><span id="updated" class="muted"></span><a href="/dashboard/">Orleans Dashboard</a><a href="/metrics">Metrics</a><div id="pause-control"><span id="pause-state"></span><button id="pause-button" type="button" data-action="pause">Pause deliveries</button></div></header>
        <main>
          <section class="wide"><h2>The last hour</h2><div id="charts" class="charts"><div id="chart-deliveries-box"></div><div id="chart-reminders-box"></div><div id="chart-quarantine-box"></div></div></section>
          <section class="wide" id="pause-section"><h2>Pause switch</h2>
            <table id="pause-parts"><thead><tr><th>Part</th><th>State</th><th>What it means</th><th>Google reports now</th></tr></thead><tbody></tbody></table>
            <p id="pause-missing" class="missing-role"></p><p id="pause-result"></p>
            <p id="pause-note" class="muted"></p>
            <p class="muted">The switch does not answer pushes with 503: Pub/Sub counts every such answer as a delivery attempt and,
              on its retry policy rather than Retry-After, dead-letters a message after maxDeliveryAttempts (10 with deploy/, 5 on the embedded twin).</p></section>
          <section class="wide"><h2>Recent deliveries by outcome</h2><div id="outcomes" class="tiles"></div></section>
          <section class="wide" id="by-cause"><h2>Quarantine by cause</h2><p id="quarantine-stats" class="muted"></p><div id="job"></div>
            <table id="groups"><thead><tr><th>Cause</th><th>Entries</th><th>Open</th><th>Replayed</th><th>Discarded</th><th>First seen</th><th>Last seen</th><th>Source, type</th><th></th></tr></thead><tbody></tbody></table></section>
          <section class="wide" id="editor"><h2>Edit and replay <code id="editor-id"></code></h2>
            <p class="muted" id="editor-mode"></p><textarea id="editor-body" spellcheck="false"></textarea>
            <p><button id="editor-save">Save and replay</button><button id="editor-cancel">Close</button> <span id="editor-result"></span></p></section>
          <section class="wide"><h2>Quarantine</h2>
            <form id="filters" class="filters" onsubmit="return false">
              <label>Source<select id="filter-source"><option value="">any</option><option>push</option><option>task</option></select></label>
              <label>Event type<input id="filter-event-type" size="14"></label>
              <label>Event id<input id="filter-event-id" size="18"></label>
              <label>Cart id<input id="filter-cart-id" size="14"></label>
              <label>Order id<input id="filter-order-id" size="14"></label>
              <label>Group<input id="filter-group" size="16"></label>
              <label>State<select id="filter-state"><option value="">any</option><option>open</option><option>replayed</option><option>discarded</option></select></label>
              <button id="apply-filters">Filter</button><button id="clear-filters" type="button">Clear</button>
              <button id="replay-selection" type="button">Replay selection</button><button id="discard-selection" type="button">Discard selection</button>
            </form>
            <table id="quarantine"><thead><tr><th>Received</th><th>Source</th><th>Reason</th><th>Event</th><th>Raw body</th><th></th></tr></thead><tbody></tbody></table></section>
          <section class="wide" id="audit-section"><h2>Operator actions (audit)</h2><table id="audit"><thead><tr><th>When</th><th>Operator</th><th>Action</th><th>Target</th><th>Outcome</th></tr></thead><tbody></tbody></table></section>
          <section><h2>Carts waiting for a reminder</h2><table id="reminders"><thead><tr><th>Cart</th><th>User</th><th>Due</th></tr></thead><tbody></tbody></table></section>
          <section><h2>Recent messages sent</h2><table id="messages"><thead><tr><th>When</th><th>Template</th><th>User</th><th>Idempotency key</th></tr></thead><tbody></tbody></table></section>
          <section class="wide"><h2>Recent deliveries</h2><table id="events"><thead><tr><th>When</th><th>Type</th><th>Event id</th><th>Outcome</th></tr></thead><tbody></tbody></table></section>
        </main>
        <script>
          const text = value => String(value ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
          const when = value => value ? new Date(value).toLocaleString() : '';
          const $ = id => document.getElementById(id);
          const rows = (id, items, render, empty) => {
            document.querySelector(`#${id} tbody`).innerHTML = items.length ? items.map(render).join('') : `<tr><td colspan="9" class="muted">${empty}</td></tr>`;
          };
          let editing = null;
          async function getJson(path) {
            const response = await fetch(path, { credentials: 'same-origin' });
            if (!response.ok) throw new Error(`${path}: ${response.status}`);
            return response.json();
          }
          async function post(path, body, type) {
            const response = await fetch(path, { method: 'POST', credentials: 'same-origin', headers: body === undefined ? {} : { 'Content-Type': type ?? 'application/json' }, body });
            return { response, body: await response.json().catch(() => ({})) };
          }
          const filterFields = { source: 'filter-source', event_type: 'filter-event-type', event_id: 'filter-event-id', cart_id: 'filter-cart-id', order_id: 'filter-order-id', group: 'filter-group', state: 'filter-state' };
          function filters() {
            const selection = {};
            for (const [name, id] of Object.entries(filterFields)) { if ($(id).value.trim()) selection[name] = $(id).value.trim(); }
            return selection;
          }
          const query = selection => new URLSearchParams(selection).toString();

          async function replay(id) {
            const cell = $(`actions-${id}`);
            cell.textContent = 'replaying…';
            const { response, body } = await post(`/ops/quarantine/${encodeURIComponent(id)}/replay`);
            cell.textContent = response.ok ? `replayed: ${body.outcome}${body.already_replayed ? ' (before: nothing sent now)' : ''}`
              : response.status === 422 ? `still unusable: ${body.reason}` : `not replayed: ${body.reason ?? body.detail ?? response.status}`;
            refresh();
          }
          async function discard(id) {
            const cell = $(`actions-${id}`);
            const { response, body } = await post(`/ops/quarantine/${encodeURIComponent(id)}/discard`);
            cell.textContent = response.ok ? `discarded by ${body.discarded_by}` : `not discarded: ${body.reason ?? response.status}`;
            refresh();
          }
          async function startJob(action, selection) {
            const { response, body } = await post(`/ops/quarantine/${action}`, JSON.stringify(selection));
            if (response.status !== 202) { $('job').textContent = `${action} refused: ${body.detail ?? response.status}`; return; }
            let job = body;
            while (true) {
              const c = job.counts;
              const parts = [['processed', c.processed], ['duplicate', c.duplicate], ['stale', c.stale], ['ignored', c.ignored], ['still unusable', c.still_unusable], ['failed', c.failed],
                ['already replayed', c.already_replayed], ['discarded', c.discarded], ['already discarded', c.already_discarded], ['gone', c.gone], ['replaying elsewhere', c.replaying]]
                .filter(([, n]) => n > 0).map(([name, n]) => `${name} ${n}`).join(', ');
              $('job').textContent = `${job.action} of ${job.selection}: ${job.state}, ${job.done} of ${job.total ?? '…'}${parts ? ' — ' + parts : ''}${job.error ? ' — ' + job.error : ''}`;
              if (job.state !== 'running') break;
              await new Promise(resolve => setTimeout(resolve, 500));
              job = await getJson(`/ops/quarantine/jobs/${job.id}`);
            }
            refresh();
          }
          // A bulk discard takes two clicks: the first arms the button (kept across refreshes), the second discards.
          let armed = null;
          function armDiscard(button, selection, key) {
            if (armed === key) { armed = null; button.textContent = 'Discarding…'; startJob('discard', selection); return; }
            armed = key;
            button.textContent = 'Confirm discard';
          }

          // Editing: a wrapped push shows the event inside message.data as text; anything else, the body as it is.
          async function edit(id, edited) {
            const response = await fetch(`/ops/quarantine/${encodeURIComponent(id)}/${edited ? 'edited-body' : 'body'}`, { credentials: 'same-origin' });
            const raw = await response.text();
            editing = { id, envelope: null };
            try {
              const envelope = JSON.parse(raw);
              const bytes = Uint8Array.from(atob(envelope.message.data), c => c.charCodeAt(0));
              let event = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
              try { event = JSON.stringify(JSON.parse(event), null, 2); } catch { }
              editing.envelope = envelope;
              $('editor-body').value = event;
              $('editor-mode').textContent = 'The event inside the push (message.data); saving puts it back into the envelope, base64-encoded. The original body stays as it was received.';
            } catch {
              $('editor-body').value = raw;
              $('editor-mode').textContent = 'The whole delivery body as kept. The original body stays as it was received.';
            }
            $('editor-id').textContent = id;
            $('editor-result').textContent = '';
            $('editor').style.display = 'block';
            $('editor').scrollIntoView();
          }
          async function saveEdit() {
            let body = $('editor-body').value;
            if (editing.envelope) {
              const bytes = new TextEncoder().encode(body);
              editing.envelope.message.data = btoa(Array.from(bytes, b => String.fromCharCode(b)).join(''));
              body = JSON.stringify(editing.envelope);
            }
            const { response, body: result } = await post(`/ops/quarantine/${encodeURIComponent(editing.id)}/edit`, body, 'text/plain; charset=utf-8');
            $('editor-result').textContent = response.ok ? `saved and replayed: ${result.outcome}`
              : response.status === 422 ? `saved; still unusable: ${result.reason}`
              : response.status === 503 ? `saved; ${result.detail}`
              : `not saved: ${result.reason ?? result.detail ?? response.status}`;
            if (response.ok) { editing = null; $('editor').style.display = 'none'; }
            refresh(true);
          }
          $('editor-save').onclick = saveEdit;
          $('editor-cancel').onclick = () => { editing = null; $('editor').style.display = 'none'; refresh(); };
          $('apply-filters').onclick = () => refresh();
          $('clear-filters').onclick = () => { for (const id of Object.values(filterFields)) $(id).value = ''; refresh(); };
          $('replay-selection').onclick = () => startJob('replay', filters());
          $('discard-selection').onclick = event => armDiscard(event.target, filters(), 'selection');

          function stateCell(q) {
            if (q.replayed_at) return `<span class="state-replayed">replayed: ${text(q.replay_outcome)}</span><div class="muted">by ${text(q.replayed_by)}</div>`;
            if (q.discarded_at) return `<span class="state-discarded">discarded by ${text(q.discarded_by)}</span>`;
            return `<button data-replay="${text(q.id)}">Replay</button><button data-discard="${text(q.id)}">Discard</button><button data-edit="${text(q.id)}" data-edited="${q.edited_at ? '1' : ''}">Edit</button>`
              + (q.edited_at ? `<div class="muted">edited by ${text(q.edited_by)} (<a href="/ops/quarantine/${encodeURIComponent(q.id)}/edited-body">edited body</a>)</div>` : '')
              + (q.replaying_since ? `<div class="muted">being replayed by ${text(q.replaying_by)} since ${when(q.replaying_since)}</div>` : '');
          }
          function renderPause(p) {
            document.body.classList.toggle('paused', p.paused);
            $('pause-state').textContent = p.paused ? `Paused since ${when(p.since)} by ${p.by}` : 'Deliveries flowing';
            $('pause-button').textContent = p.paused ? 'Resume deliveries' : 'Pause deliveries';
            $('pause-button').dataset.action = p.paused ? 'resume' : 'pause';
            const o = p.observed ?? {};
            const pushesNow = o.pushes_error ? `could not read: ${o.pushes_error}` : o.pushing == null ? '' : o.pushing ? `pushing to ${o.push_endpoint}` : 'not pushing: messages wait in the subscription';
            const queueNow = o.queue_error ? `could not read: ${o.queue_error}` : (o.queue_state ?? '');
            const part = (name, x, flowing, now) => `<tr><td>${text(name)}</td><td class="part-${text(x?.state ?? flowing)}">${text(x?.state ?? flowing)}</td>
              <td>${text(x?.detail ?? '')}${x?.missing_role ? `<div class="missing-role">missing role: ${text(x.missing_role)}</div>` : ''}</td><td>${text(now)}</td></tr>`;
            document.querySelector('#pause-parts tbody').innerHTML =
              part(`Pushes (${p.subscription ?? 'no subscription configured'})`, p.pushes, 'pushing', pushesNow) + part(`Reminders (${p.queue})`, p.reminders, 'running', queueNow);
            $('pause-missing').textContent = p.missing_roles.length ? `The service account lacks ${p.missing_roles.join('; ')}. deploy/gcp.sh grants it.` : '';
            $('pause-note').textContent = p.note;
          }
          async function togglePause() {
            const button = $('pause-button');
            const action = button.dataset.action;
            button.disabled = true;
            try {
              const { response, body } = await post(`/ops/${action}`);
              if (body.note) renderPause(body);
              $('pause-result').textContent = `${action === 'pause' ? 'Pause' : 'Resume'}${response.ok ? '' : ` incomplete (${response.status})`}: ${(body.done ?? [body.detail ?? '']).join('; ')}`;
            } finally {
              button.disabled = false;
            }
            refresh();
          }
          $('pause-button').onclick = togglePause;
          async function refreshCharts() {
            for (const name of ['deliveries', 'reminders', 'quarantine']) {
              const response = await fetch(`/ops/charts/${name}.svg`, { credentials: 'same-origin' });
              if (response.ok) $(`chart-${name}-box`).innerHTML = await response.text();
            }
          }
          async function refresh(quarantineToo) {
            try {
              const selection = filters();
              const [summary, page, groups, audit] = await Promise.all([
                getJson('/ops/summary'), getJson(`/ops/quarantine?limit=100&${query(selection)}`), getJson(`/ops/quarantine/groups?${query({ ...selection, group: '' })}`), getJson('/ops/audit?limit=50')]);
              $('quarantine-stats').textContent =
                `${page.stats.entries} kept, ${(page.stats.bytes / 1048576).toFixed(1)} MiB of bodies, ${page.stats.evicted} evicted (oldest first) to stay within the configured bounds`;
              $('outcomes').innerHTML = Object.entries(summary.recent_by_outcome)
                .map(([outcome, count]) => `<div class="tile ${text(outcome)}"><b>${count}</b>${text(outcome)}</div>`).join('') || '<span class="muted">no deliveries yet</span>';
              rows('messages', summary.recent_messages, m => `<tr><td>${when(m.at)}</td><td>${text(m.template)}</td><td>${text(m.user_id)}</td><td><code>${text(m.idempotency_key)}</code></td></tr>`, 'nothing sent yet');
              rows('events', summary.recent_events, e => `<tr><td>${when(e.at)}</td><td>${text(e.event_type)}</td><td><code>${text(e.event_id)}</code></td><td>${text(e.outcome)}</td></tr>`, 'no deliveries yet');
              rows('groups', groups.groups, g => `<tr data-group="${text(g.group)}"><td title="${text(g.example)}">${text(g.cause)}</td><td>${g.count}</td><td>${g.open}</td><td>${g.replayed}</td><td>${g.discarded}</td>
                <td>${when(g.first_seen)}</td><td>${when(g.last_seen)}</td><td>${text(g.sources.join(', '))} ${text(g.event_types.join(', '))}</td>
                <td class="actions"><button class="replay-group" data-group="${text(g.group)}">Replay group</button><button class="discard-group" data-group="${text(g.group)}">${armed === 'group:' + g.group ? 'Confirm discard' : 'Discard group'}</button><button class="show-group" data-group="${text(g.group)}">Show</button></td></tr>`, 'nothing quarantined');
              document.querySelectorAll('#groups .replay-group').forEach(b => b.onclick = () => startJob('replay', { group: b.dataset.group }));
              document.querySelectorAll('#groups .discard-group').forEach(b => b.onclick = () => armDiscard(b, { group: b.dataset.group }, 'group:' + b.dataset.group));
              document.querySelectorAll('#groups .show-group').forEach(b => b.onclick = () => { $('filter-group').value = b.dataset.group; refresh(); });
              if (!editing || quarantineToo) {
                rows('quarantine', page.entries, q => `<tr data-id="${text(q.id)}"><td>${when(q.received_at)}</td><td>${text(q.source)}</td><td>${text(q.reason)}</td>
                  <td>${text(q.event_type)} <code>${text(q.event_id)}</code>${q.cart_id ? ` cart <code>${text(q.cart_id)}</code>` : ''}${q.order_id ? ` order <code>${text(q.order_id)}</code>` : ''}</td>
                  <td><details><summary>${text(q.body_preview.slice(0, 60))}… (${q.body_bytes} bytes)</summary><pre>${text(q.body_preview)}${q.body_truncated ? '…' : ''}</pre>
                    <a href="/ops/quarantine/${encodeURIComponent(q.id)}/body">whole body</a></details></td>
                  <td class="actions" id="actions-${text(q.id)}">${stateCell(q)}</td></tr>`, 'nothing quarantined');
                document.querySelectorAll('#quarantine button[data-replay]').forEach(b => b.onclick = () => replay(b.dataset.replay));
                document.querySelectorAll('#quarantine button[data-discard]').forEach(b => b.onclick = () => discard(b.dataset.discard));
                document.querySelectorAll('#quarantine button[data-edit]').forEach(b => b.onclick = () => edit(b.dataset.edit, b.dataset.edited === '1'));
              }
              rows('audit', audit.entries, a => `<tr><td>${when(a.at)}</td><td>${text(a.operator)}</td><td>${text(a.action)}</td><td>${text(a.target)}</td><td>${text(a.outcome)}</td></tr>`, 'no operator action yet');
              $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
            } catch (error) {
              $('updated').textContent = `could not refresh: ${error.message}`;
            }
            try {
              renderPause(await getJson('/ops/pause'));
            } catch (error) {
              $('pause-state').textContent = `pause switch unknown: ${error.message}`;
            }
            try {
              await refreshCharts();
            } catch (error) {
              $('updated').textContent = `could not draw the charts: ${error.message}`;
            }
            try {
              const reminders = await getJson('/ops/reminders');
              rows('reminders', reminders, r => `<tr><td><a href="/ops/carts/${encodeURIComponent(r.cart_id ?? '')}">${text(r.cart_id)}</a></td><td>${text(r.user_id)}</td><td>${when(r.due_at)}</td></tr>`, 'no reminder pending');
            } catch (error) {
              rows('reminders', [], null, `task queue unavailable: ${text(error.message)}`);
            }
          }
          refresh();
          setInterval(refresh, 5000);
        </script>
        </body>
        </html>
        """;
}
