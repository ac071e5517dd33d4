/**
 * The page's whole stylesheet, inlined (no external font, no network). System fonts only; from
 * 600 px down, lane names sit above their tracks and detail rows stack, so a 420 px phone shows the
 * whole chart and every id wraps instead of running off-screen.
 */
export const STYLE = `
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0 auto;padding:16px 20px 40px;max-width:1400px;color:#1b1b1b;background:#fff}
h1{font-size:1.45em;margin:.2em 0}h2{font-size:1.2em;margin:1.2em 0 .3em}
code{font:13px/1.4 ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;background:#f2f3f5;padding:0 3px;border-radius:3px}
code,dd,.notes li,h2,h1,.summary{overflow-wrap:anywhere}
a{color:#0b57d0}
.meta{color:#444;margin:.2em 0}
.notes{margin:.5em 0;padding:.5em .8em .5em 1.8em;background:#fff8e1;border-left:4px solid #f9a825}
.bad{color:#b71c1c}
.subject{border-top:2px solid #d0d4da;margin-top:1.5em}
.empty{color:#555;font-style:italic}
.chart{margin:.6em 0 1em}
.span{margin:0 0 .3em;color:#333;font-size:13px}
.lane{display:grid;grid-template-columns:8.5em 1fr;align-items:stretch;border-bottom:1px solid #e3e6ea}
.ln{font-size:13px;font-weight:600;color:#333;padding:3px 6px 3px 0}
.track{position:relative;min-height:22px;background:repeating-linear-gradient(90deg,#fafbfc 0,#fafbfc 10%,#f4f6f8 10%,#f4f6f8 20%)}
.axis .track{height:20px;background:none;border-bottom:1px solid #9aa3ad}
.tick{position:absolute;bottom:0;transform:translateX(-50%);font-size:12px;color:#333;white-space:nowrap;border-left:1px solid #9aa3ad;padding-left:2px}
.tick:first-child{transform:none}
.none{position:absolute;left:6px;top:3px;font-size:12px;color:#8a9199}
.band{position:absolute;top:0;bottom:0;overflow:hidden;border-left:1px solid rgba(0,0,0,.25)}
.band span{position:absolute;left:3px;right:0;bottom:0;overflow:hidden;font-size:11px;color:#1b3d1f;white-space:nowrap}
.nw{display:inline-block;max-width:100%}
.state-pending{background:#d4e8fb}.state-running{background:#d5ecd6}.state-stopping,.state-stopped{background:#fff0bd}
.state-shutting-down{background:#fddcd2}.state-terminated{background:#e3e3e3}
.mk{display:inline-block;line-height:0;text-decoration:none}
.track .mk{position:absolute;transform:translateX(-50%);padding:1px}
.mk svg{fill:currentColor;stroke:currentColor;overflow:visible}
.track .mk svg{width:13px;height:13px}
.mk.err svg{filter:drop-shadow(0 0 1.5px #d50000) drop-shadow(0 0 1px #d50000)}
.mk.err{border-radius:50%;box-shadow:0 0 0 2px #d50000}
.st-acted{color:#2e7d32}.st-skipped{color:#757575}.st-refused{color:#ef6c00}.st-failed{color:#c62828}
.st-reported{color:#1565c0}.st-intended{color:#e65100}.st-event{color:#6a1b9a}.st-state{color:#00695c}
.st-dead-letter{color:#b71c1c}.st-unreadable{color:#455a64}
.entries{list-style:none;padding:0;margin:0}
.entry{border:1px solid #dfe3e8;border-left:5px solid currentColor;border-radius:4px;margin:.5em 0;padding:.4em .7em;color:#1b1b1b}
.entry.st-acted{border-left-color:#2e7d32}.entry.st-skipped{border-left-color:#9e9e9e}.entry.st-refused{border-left-color:#ef6c00}
.entry.st-failed{border-left-color:#c62828;background:#fff5f5}.entry.st-reported{border-left-color:#1565c0}
.entry.st-intended{border-left-color:#e65100;background:#fff8f0}.entry.st-event{border-left-color:#6a1b9a}
.entry.st-state{border-left-color:#00695c}.entry.st-dead-letter{border-left-color:#b71c1c;background:#fff5f5}
.entry.st-unreadable{border-left-color:#455a64}.entry.err{box-shadow:inset 0 0 0 1px #ef9a9a}
.entry:target{outline:3px solid #0b57d0}
.head{margin:0 0 .3em}.head time{font-weight:600}
.tag{font-size:12px;background:#eceff1;border-radius:3px;padding:0 5px;color:#333}
dl{display:grid;grid-template-columns:10em 1fr;gap:2px 10px;margin:0;font-size:14px}
dt{color:#555}dd{margin:0}
details>summary{cursor:pointer;color:#0b57d0;margin:.3em 0}
.index ul{padding-left:1.2em}.index li{margin:.15em 0}
.legend ul{list-style:none;padding:0;margin:.6em 0;display:flex;flex-wrap:wrap;gap:.2em 1.1em;font-size:13px;color:#333}
.legend .mk svg{width:12px;height:12px;vertical-align:-1px}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:14px}td,th{border:1px solid #dde1e6;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f5f6f8}
.grid{display:flex;gap:0 2em;flex-wrap:wrap}
.verdict{padding:.4em .9em;border-radius:4px;display:inline-block;font-weight:bold}
.verdict.ok{background:#e3f5e1;color:#1b5e20}.verdict.bad{background:#fde2e1;color:#b71c1c}
li.ok{color:#1b5e20}li.bad{color:#b71c1c}
@media (max-width:600px){
body{padding:10px 10px 30px;font-size:14px}
.lane{grid-template-columns:1fr}
.ln{padding:4px 0 1px;font-size:12px}
.axis .ln{display:none}
.tick{font-size:11px}.tick:nth-child(even){display:none}
dl{grid-template-columns:1fr}dt{font-size:12px;margin-top:3px}
td,th{padding:2px 4px}
}
`;
