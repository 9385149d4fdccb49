"""The one stylesheet of the UI pages (inline, nonce-allowed). Colors are the Okabe-Ito
palette, safe for the common color-vision deficiencies; shapes and labels carry meaning too."""

CSS = """
:root{--ink:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa;--blue:#0072b2;--sky:#56b4e9;
--green:#009e73;--orange:#e69f00;--verm:#d55e00;--purple:#cc79a7;--dark-orange:#a35f00}
*{box-sizing:border-box}
body{margin:0;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--ink);background:var(--bg)}
header.top{background:#fff;border-bottom:1px solid var(--line);padding:10px 24px;display:flex;
align-items:center;gap:16px;flex-wrap:wrap}
header.top .brand{font-weight:700;letter-spacing:.02em}
header.top .who{color:var(--muted);margin-left:auto;font-size:13px}
main{max-width:1320px;margin:0 auto;padding:18px 24px 48px}
h1{font-size:22px;margin:4px 0 2px}
h2{font-size:17px;margin:0 0 10px}
h3{font-size:14px;margin:14px 0 6px}
p.sub{color:var(--muted);margin:0 0 14px}
a{color:#0550ae}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 18px;
margin:0 0 18px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:18px}
@media (max-width:1000px){.grid2{grid-template-columns:1fr}}
form.inline{display:flex;gap:10px;align-items:end;flex-wrap:wrap;margin:0}
label{display:flex;flex-direction:column;font-size:12px;color:var(--muted);gap:3px}
input{font:inherit;padding:5px 8px;border:1px solid var(--line);border-radius:6px;color:var(--ink)}
button{font:inherit;padding:6px 14px;border-radius:6px;border:1px solid #1f6feb;background:#1f6feb;
color:#fff;cursor:pointer}
button.quiet{background:#fff;color:var(--ink);border-color:var(--line)}
.facts{display:flex;gap:10px;flex-wrap:wrap;margin:0 0 18px}
.fact{background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px 14px;
min-width:150px}
.fact b{display:block;font-size:16px}
.fact span{font-size:12px;color:var(--muted)}
.status{display:inline-block;padding:1px 9px;border-radius:10px;font-weight:600;font-size:13px;
border:1px solid currentColor}
.status-eligible{color:#006b4f;background:#e3f5ee}.status-running,.status-waiting{color:#005a8c;background:#e4f1fa}
.status-closed{color:#24292f;background:#eaeef2}
.status-not_employed,.status-awaiting_m4,.status-follow_up_cancelled{color:#8a3f00;background:#fdf0e1}
ul.blocking{margin:6px 0 0;padding-left:20px}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:0}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}
th{background:var(--bg);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.nowrap,.nowrap{white-space:nowrap}
td.mono,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
tr.retracted td{color:#6e7781;background:#fafbfc}
tr.retracted td.type del{text-decoration-thickness:2px}
tr.retraction td{background:#fff8f0}
.note{display:block;font-size:12px;color:#8a3f00;margin-top:3px}
.chg{display:block}
.chg .from{color:var(--muted)}
.none{color:var(--muted)}
.anomaly{color:#8a3f00}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin:10px 0 0;padding:0;list-style:none;
font-size:12.5px}
.legend li{display:flex;align-items:center;gap:6px}
.legend svg{flex:none}
.figure{overflow-x:auto}
.caption{color:var(--muted);font-size:12.5px;margin:6px 0 0}
.error{background:#fff1f0;border:1px solid #ffb3ad;color:#82071e;padding:8px 12px;
border-radius:6px;margin:0 0 12px}
.signin{max-width:440px;margin:70px auto}
.signin form{display:flex;flex-direction:column;gap:12px}
svg.timeline{width:100%;min-width:900px;height:auto;display:block;font-size:11px}
svg.timeline text{fill:var(--ink)}
.row-bg{fill:#fff}.row-bg.odd{fill:#f7f9fb}
.row-label{font-weight:600;font-size:12px}.row-sub{fill:var(--muted)!important;font-size:10.5px}
.gutter,.axis{stroke:#8c959f;stroke-width:1}
.grid{stroke:#e1e6eb;stroke-width:1}
.tick{fill:var(--muted)!important;font-size:11px}
.wait rect{fill:#56b4e9;fill-opacity:.12}
.wait text{fill:#005a8c!important;font-weight:600;
paint-order:stroke;stroke:#fff;stroke-width:3px}
.span rect{stroke-width:1.5}
.span.job rect{fill:#d4e6f4;stroke:var(--blue)}
.span.pba rect{fill:#f6e3ee;stroke:#a8467e}
.span.auth-paid rect{fill:#cdeee2;stroke:var(--green)}
.span.auth-unpaid rect{fill:url(#hatch);stroke:var(--dark-orange)}
.span.auth-cancelled rect{fill:#eef0f2;stroke:#6e7781;stroke-dasharray:4 3}
.span .more{fill:var(--blue)}
.strike{stroke:#24292f;stroke-width:2}
.timeline .retracted{opacity:.5}
.timeline .retracted text{font-style:italic}
.mark circle,.mark path,.mark rect{stroke:#fff;stroke-width:1.5}
.mark.pay-full circle{fill:#1b1f24}
.mark.pay-partial circle{fill:#fff;stroke:#1b1f24;stroke-width:2}
.mark.cancel path{stroke:var(--verm);stroke-width:2.6}
.mark.milestone path{fill:var(--purple);stroke:#6d2a55;stroke-width:1}
.mark.job-end path{fill:var(--blue)}
.mark.case path{fill:#8c959f}
.mark.m4 path{fill:var(--sky);stroke:#005a8c;stroke-width:1}
.mark.ef-cancelled path{fill:var(--verm)}
.mark.closed rect{fill:#1b1f24}
.mark .strike{stroke:#24292f;stroke-width:2}
.mark text{font-size:10.5px;
paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
.rule line{stroke-width:2}
.rule-label{font-weight:600;font-size:11px;paint-order:stroke;stroke:#fff;stroke-width:3px}
.rule-clock-start line{stroke:var(--blue)}
.rule-clock-start text{fill:#005a8c!important}
.rule-eligible line{stroke:var(--green);stroke-dasharray:6 4}
.rule-eligible text{fill:#006b4f!important}
.rule-closed line{stroke:#1b1f24}
.rule-as-of line{stroke:#6e7781;stroke-dasharray:2 3}
.rule-as-of text{fill:var(--muted)!important}
"""
CSS += ".actor{display:block;color:var(--muted);font-size:11px;font-weight:400}"
CSS += """
table.history{table-layout:fixed}
table.history col.v{width:44px}table.history col.at{width:222px}table.history col.type{width:190px}
table.history col.clock{width:22%}table.history col.ledger{width:20%}
table.history td{overflow-wrap:anywhere}
"""
