using Microsoft.AspNetCore.Http.HttpResults;

namespace PulseCart.Consumer.Ops;

/// <summary>
/// One static page over the <c>/ops</c> JSON: what flows, which carts wait for a reminder, what was quarantined
/// and why (with replay), what was sent. No build step; it refreshes itself every five seconds.
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
          code, pre { font: 12px ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; margin: 0; }
          button { cursor: pointer; }
          .muted { color: #8a93a6; }
        </style>
        </head>
        <body>
        <header><h1>PulseCart operations</h1><span id="updated" class="muted"></span><a href="/dashboard/">Orleans Dashboard</a><a href="/metrics">Metrics</a></header>
        <main>
          <section class="wide"><h2>Recent deliveries by outcome</h2><div id="outcomes" class="tiles"></div></section>
          <section><h2>Carts waiting for a reminder</h2><table id="reminders"><thead><tr><th>Cart</th><th>User</th><th>Due</th></tr></thead><tbody></tbody></table></section>
          <section><h2>Recent messages sent</h2><table id="messages"><thead><tr><th>When</th><th>Template</th><th>User</th><th>Idempotency key</th></tr></thead><tbody></tbody></table></section>
          <section class="wide"><h2>Quarantine</h2><p id="quarantine-stats" class="muted"></p><table id="quarantine"><thead><tr><th>Received</th><th>Source</th><th>Reason</th><th>Event</th><th>Raw body</th><th></th></tr></thead><tbody></tbody></table></section>
          <section class="wide"><h2>Recent deliveries</h2><table id="events"><thead><tr><th>When</th><th>Type</th><th>Event id</th><th>Outcome</th></tr></thead><tbody></tbody></table></section>
        </main>
        <script>
          const text = value => String(value ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
          const when = value => value ? new Date(value).toLocaleString() : '';
          const rows = (id, items, render, empty) => {
            document.querySelector(`#${id} tbody`).innerHTML = items.length ? items.map(render).join('') : `<tr><td colspan="6" class="muted">${empty}</td></tr>`;
          };
          async function getJson(path) {
            const response = await fetch(path, { credentials: 'same-origin' });
            if (!response.ok) throw new Error(`${path}: ${response.status}`);
            return response.json();
          }
          async function replay(id) {
            const cell = document.getElementById(`replay-${id}`);
            cell.textContent = 'replaying…';
            const response = await fetch(`/ops/quarantine/${encodeURIComponent(id)}/replay`, { method: 'POST', credentials: 'same-origin' });
            const body = await response.json().catch(() => ({}));
            cell.textContent = response.ok ? `replayed: ${body.outcome}` : `still unusable: ${body.reason ?? body.detail ?? response.status}`;
            refresh();
          }
          async function refresh() {
            try {
              const [summary, page] = await Promise.all([getJson('/ops/summary'), getJson('/ops/quarantine?limit=100')]);
              const quarantine = page.entries;
              document.getElementById('quarantine-stats').textContent =
                `${page.stats.entries} kept, ${(page.stats.bytes / 1048576).toFixed(1)} MiB of bodies, ${page.stats.evicted} evicted (oldest first) to stay within the configured bounds`;
              document.getElementById('outcomes').innerHTML = Object.entries(summary.recent_by_outcome)
                .map(([outcome, count]) => `<div class="tile ${text(outcome)}"><b>${count}</b>${text(outcome)}</div>`).join('') || '<span class="muted">no deliveries yet</span>';
              rows('messages', summary.recent_messages, m => `<tr><td>${when(m.at)}</td><td>${text(m.template)}</td><td>${text(m.user_id)}</td><td><code>${text(m.idempotency_key)}</code></td></tr>`, 'nothing sent yet');
              rows('events', summary.recent_events, e => `<tr><td>${when(e.at)}</td><td>${text(e.event_type)}</td><td><code>${text(e.event_id)}</code></td><td>${text(e.outcome)}</td></tr>`, 'no deliveries yet');
              rows('quarantine', quarantine, q => `<tr><td>${when(q.received_at)}</td><td>${text(q.source)}</td><td>${text(q.reason)}</td><td>${text(q.event_type)} <code>${text(q.event_id)}</code></td>
                <td><details><summary>${text(q.body_preview.slice(0, 60))}… (${q.body_bytes} bytes)</summary><pre>${text(q.body_preview)}${q.body_truncated ? '…' : ''}</pre>
                  <a href="/ops/quarantine/${encodeURIComponent(q.id)}/body">whole body</a></details></td>
                <td id="replay-${text(q.id)}">${q.replayed_at ? `replayed: ${text(q.replay_outcome)}` : `<button data-id="${text(q.id)}">Replay</button>`}</td></tr>`, 'nothing quarantined');
              document.querySelectorAll('#quarantine button[data-id]').forEach(button => button.onclick = () => replay(button.dataset.id));
              document.getElementById('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
            } catch (error) {
              document.getElementById('updated').textContent = `could not refresh: ${error.message}`;
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
