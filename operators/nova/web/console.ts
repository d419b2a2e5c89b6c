/**
 * The console page nova-novncproxy serves (its vnc_lite.html): noVNC drawing one server's display, over the
 * WebSocket `websockify` beside this page, with the token Nova put in the URL (`?path=%3Ftoken%3D…`, as Nova
 * writes it, or `?token=`).
 */
import RFB from '@novnc/novnc';

const params = new URLSearchParams(location.search);
const path = params.get('path') ?? (params.get('token') ? `?token=${encodeURIComponent(params.get('token')!)}` : '');
const status = document.getElementById('status')!;
const screen = document.getElementById('screen')!;
const say = (text: string, state: string) => {
  status.textContent = text;
  document.body.dataset.state = state;
};

if (!/token=/.test(path)) say('This console link has no token: ask for a new one.', 'failed');
else {
  const ws = new URL(`websockify${path.startsWith('?') ? path : `?${path.replace(/^.*\?/, '')}`}`, location.href);
  ws.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const rfb = new RFB(screen, ws.href, { wsProtocols: ['binary'] });
  rfb.scaleViewport = true;
  say('Connecting…', 'connecting');
  rfb.addEventListener('connect', () => say('Connected', 'connected'));
  rfb.addEventListener('disconnect', (e) => say((e as CustomEvent<{ clean: boolean }>).detail.clean ? 'Disconnected' : 'The console connection was refused or lost: the link is single-use and short-lived, ask for a new one.', 'disconnected'));
  document.getElementById('cad')!.addEventListener('click', () => rfb.sendCtrlAltDel());
}
