// The widget's CSS, inside its shadow root: the host page's CSS cannot reach it, and it cannot leak out.
// Pixel sizes only (rem would follow the host page's root font size), logical properties for RTL.
export const CSS = `
:host { all: initial !important; }
.hl { all: initial; font: 400 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d232b;
  --accent: #2463eb; --bg: #ffffff; --soft: #f1f4f8; --line: #d6dce4; --muted: #5c6673; --mine: var(--accent); --mine-text: #fff; }
.hl * { box-sizing: border-box; letter-spacing: normal; text-transform: none; }
.hl [hidden] { display: none !important; }
.hl :where(button, textarea, input) { all: unset; box-sizing: border-box; font: inherit; }
.hl :focus-visible { outline: 3px solid #f5a623 !important; outline-offset: 2px; }
.launcher { position: fixed; inset-block-end: 20px; inset-inline-end: 20px; z-index: 2147483000; width: 56px; height: 56px;
  border-radius: 50%; background: var(--accent); color: #fff; display: flex; align-items: center; justify-content: center;
  cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25); transition: transform .15s; }
.launcher:hover { transform: scale(1.06); }
.left .launcher { inset-inline-end: auto; inset-inline-start: 20px; }
.launcher svg { width: 28px; height: 28px; fill: #fff; }
.badge { position: absolute; inset-block-start: -4px; inset-inline-end: -4px; min-width: 20px; height: 20px; padding: 0 5px;
  border-radius: 10px; background: #d92d20; color: #fff; font-size: 12px; font-weight: 700; display: flex; align-items: center; justify-content: center; }
.panel { position: fixed; inset-block-end: 88px; inset-inline-end: 20px; z-index: 2147483001; width: 370px; height: min(600px, calc(100vh - 110px));
  display: flex; flex-direction: column; background: var(--bg); border-radius: 14px; overflow: hidden;
  box-shadow: 0 12px 40px rgba(0,0,0,.28); border: 1px solid var(--line); animation: rise .18s ease-out; }
.left .panel { inset-inline-end: auto; inset-inline-start: 20px; }
@keyframes rise { from { opacity: 0; transform: translateY(12px); } to { opacity: 1; transform: none; } }
header { display: flex; align-items: center; gap: 10px; padding: 12px 14px; background: var(--accent); color: #fff; }
header .who { flex: 1; min-width: 0; }
header h2 { margin: 0; font-size: 16px; font-weight: 700; display: block; }
header .availability { font-size: 12px; opacity: .92; display: block; }
header img { width: 32px; height: 32px; border-radius: 50%; object-fit: cover; background: #fff; }
.icon { width: 32px; height: 32px; display: inline-flex; align-items: center; justify-content: center; border-radius: 8px; cursor: pointer; color: #fff; font-size: 18px; }
.icon:hover { background: rgba(255,255,255,.18); }
.icon[aria-pressed="false"] { opacity: .55; }
.end { font-size: 12px; padding: 6px 10px; border: 1px solid rgba(255,255,255,.7); border-radius: 8px; cursor: pointer; color: #fff; }
.body { flex: 1; overflow-y: auto; padding: 12px 14px; display: flex; flex-direction: column; gap: 8px; background: var(--bg); }
.greeting { background: var(--soft); border-radius: 10px; padding: 10px 12px; margin: 0; }
.notice { font-size: 13px; color: var(--muted); text-align: center; margin: 2px 0; }
.notice.error { color: #b42318; font-weight: 600; }
ol.log { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 8px; }
.msg { max-width: 82%; display: flex; flex-direction: column; gap: 3px; }
.msg .bubble { padding: 8px 11px; border-radius: 14px; background: var(--soft); white-space: pre-wrap; overflow-wrap: anywhere; }
.msg.mine { align-self: flex-end; align-items: flex-end; }
.msg.mine .bubble { background: var(--mine); color: var(--mine-text); border-end-end-radius: 4px; }
.msg.theirs { align-self: flex-start; }
.msg.theirs .bubble { border-end-start-radius: 4px; }
.msg.activity { align-self: center; font-size: 12px; color: var(--muted); }
.msg .meta { font-size: 11px; color: var(--muted); }
.msg img.file { max-width: 220px; max-height: 180px; border-radius: 10px; display: block; }
.msg a { color: inherit; text-decoration: underline; }
.choices { display: flex; flex-wrap: wrap; gap: 6px; }
.choices button, .choices a, .primary, .stars button { border: 1px solid var(--accent); color: var(--accent); border-radius: 16px; padding: 5px 12px; cursor: pointer; background: var(--bg); text-decoration: none; }
.choices button[aria-pressed="true"], .stars button[aria-pressed="true"] { background: var(--accent); color: #fff; }
.choices button:disabled { cursor: default; opacity: .6; }
.choices button[aria-pressed="true"]:disabled { opacity: 1; }
.card img { max-width: 100%; border-radius: 10px; display: block; }
.stars { display: flex; gap: 4px; }
.stars button { padding: 4px 9px; border-radius: 8px; }
.primary { background: var(--accent); color: #fff; text-align: center; border-radius: 10px; padding: 9px 14px; font-weight: 600; }
form.fields { display: flex; flex-direction: column; gap: 8px; }
label.field { display: flex; flex-direction: column; gap: 3px; font-size: 13px; color: var(--muted); }
.field input, .field textarea, textarea.compose { border: 1px solid var(--line); border-radius: 10px; padding: 8px 10px; background: var(--bg); color: #1d232b; }
.typing { font-size: 12px; color: var(--muted); min-height: 17px; padding: 0 14px; }
.composer { border-top: 1px solid var(--line); padding: 8px 10px; display: flex; flex-direction: column; gap: 6px; background: var(--bg); }
.row { display: flex; gap: 6px; align-items: flex-end; }
textarea.compose { flex: 1; min-height: 38px; max-height: 120px; resize: none; overflow-y: auto; white-space: pre-wrap; }
.send { background: var(--accent); color: #fff; border-radius: 10px; padding: 9px 12px; cursor: pointer; font-weight: 600; }
.attach { border: 1px solid var(--line); border-radius: 10px; padding: 8px 9px; cursor: pointer; color: var(--muted); display: inline-flex; }
.attach svg { width: 20px; height: 20px; fill: currentColor; }
.hint { font-size: 11px; color: var(--muted); display: flex; gap: 8px; align-items: center; }
.hint progress { flex: 1; height: 6px; }
.dropping .body { outline: 3px dashed var(--accent); outline-offset: -6px; }
@media (max-width: 480px) {
  .panel, .left .panel { inset: 0; width: 100%; height: 100%; border-radius: 0; border: 0; }
}
@media (prefers-color-scheme: dark) {
  .hl { color: #e8ecf1; --bg: #161b22; --soft: #242b35; --line: #3a4350; --muted: #a4afbd; }
  .field input, .field textarea, textarea.compose { color: #e8ecf1; }
}
@media (prefers-reduced-motion: reduce) {
  .panel { animation: none; }
  .launcher { transition: none; }
}
`;
