/**
 * The console page nova-novncproxy serves (its vnc_lite.html): noVNC drawing one server's display, over the
 * WebSocket whose path (with the token) Nova put in the URL's `path`, as noVNC's own page reads it.
 */
import RFB from '@novnc/novnc';

const params = new URLSearchParams(location.search);
// noVNC's `path`: the WebSocket's path from the host's root, as Nova writes it; or a bare `token` beside this page.
const token = params.get('token');
const path = params.get('path') ?? (token ? `${location.pathname.replace(/[^/]*$/, '').replace(/^\//, '')}websockify?token=${encodeURIComponent(token)}` : '');
const status = document.getElementById('status')!;
const screen = document.getElementById('screen')!;
const say = (text: string, state: string) => {
  status.textContent = text;
  document.body.dataset.state = state;
};

if (!/token=/.test(path)) say('This console link has no token: ask for a new one.', 'failed');
else {
  const ws = new URL(`/${path.replace(/^\//, '')}`, location.origin);
  ws.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const rfb = new RFB(screen, ws.href, { wsProtocols: ['binary'] });
  rfb.scaleViewport = true;
  say('Connecting…', 'connecting');
  rfb.addEventListener('connect', () => say('Connected', 'connected'));
  rfb.addEventListener('disconnect', (e) => say((e as CustomEvent<{ clean: boolean }>).detail.clean ? 'Disconnected' : 'The console connection was refused or lost: the link is single-use and short-lived, ask for a new one.', 'disconnected'));
  document.getElementById('cad')!.addEventListener('click', () => rfb.sendCtrlAltDel());
}
