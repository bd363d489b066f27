// The console's live connection: the agent websocket, resumed after any drop from the last event seen.
//
// Every frame carries a sequence number; the connection remembers the last one it handed on and, when it
// reconnects, asks the server for what came after it (?after=N). A frame at or below that number is never
// handed on twice. If the server says the gap is too old to replay, the console reloads its state instead.

const PING_EVERY = 20000;
const PONG_WITHIN = 10000;
const MAX_DELAY = 15000;

export class Live {
  constructor({ path, onEvent, onReady, onResync, onStatus, onRefused }) {
    this.path = path;
    this.onEvent = onEvent;
    this.onReady = onReady;
    this.onResync = onResync;
    this.onStatus = onStatus;
    this.onRefused = onRefused;
    this.lastSeq = null;
    this.socket = null;
    this.stopped = true;
    this.failures = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.waitingForNetwork = false;
    this.handleOnline = () => {
      if (this.waitingForNetwork) {
        this.waitingForNetwork = false;
        this.connect();
      }
    };
    this.handleOffline = () => {
      // The socket may linger without traffic, and its closing handshake cannot finish without the
      // network (its close event may then come a minute later): let go of it now, so that the console
      // shows the truth at once and reconnects as soon as the network is back.
      if (!this.socket) return;
      const socket = this.socket;
      this.socket = null;
      this.clearHeartbeat();
      socket.close();
      this.failures += 1;
      this.scheduleReconnect();
    };
  }

  start() {
    this.stopped = false;
    window.addEventListener('online', this.handleOnline);
    window.addEventListener('offline', this.handleOffline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.handleOnline);
    window.removeEventListener('offline', this.handleOffline);
    clearTimeout(this.retryTimer);
    this.clearHeartbeat();
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.close(1000, 'signed out');
    }
  }

  // Close the socket as a network drop would; the connection comes back by itself.
  drop() {
    if (this.socket) this.socket.close(4000, 'dropped');
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const after = this.lastSeq === null ? '' : `?after=${this.lastSeq}`;
    return `${scheme}//${location.host}${this.path}${after}`;
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    if (!navigator.onLine) {
      this.waitingForNetwork = true;
      this.onStatus('offline');
      return;
    }
    this.onStatus(this.failures ? 'reconnecting' : 'connecting');
    const socket = new WebSocket(this.url());
    this.socket = socket;
    let opened = false;
    socket.addEventListener('open', () => {
      opened = true;
    });
    socket.addEventListener('message', (message) => {
      if (socket !== this.socket) return;
      this.alive();
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      this.receive(frame);
    });
    socket.addEventListener('close', (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.clearHeartbeat();
      if (this.stopped) return;
      this.failures += 1;
      if (!opened) this.onRefused();
      this.scheduleReconnect(event.code);
    });
  }

  receive(frame) {
    if (frame.event === 'ready') {
      if (this.lastSeq === null) this.lastSeq = frame.data.last_seq;
      this.failures = 0;
      this.onStatus('live');
      this.startHeartbeat();
      this.onReady();
      return;
    }
    if (frame.event === 'resync_required') {
      this.lastSeq = frame.data.last_seq;
      this.onResync();
      return;
    }
    if (frame.event === 'pong' || typeof frame.seq !== 'number') return;
    if (this.lastSeq !== null && frame.seq <= this.lastSeq) return;
    this.lastSeq = frame.seq;
    this.onEvent(frame);
  }

  scheduleReconnect() {
    if (!navigator.onLine) {
      this.waitingForNetwork = true;
      this.onStatus('offline');
      return;
    }
    this.onStatus('reconnecting');
    const base = Math.min(MAX_DELAY, 500 * 2 ** Math.min(this.failures - 1, 5));
    const delay = base / 2 + Math.random() * (base / 2);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  alive() {
    clearTimeout(this.pongTimer);
    this.pongTimer = null;
  }

  startHeartbeat() {
    this.clearHeartbeat();
    this.pingTimer = setInterval(() => {
      if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return;
      this.socket.send('{"type":"ping"}');
      if (!this.pongTimer) {
        const socket = this.socket;
        this.pongTimer = setTimeout(() => socket.close(4000, 'no answer to ping'), PONG_WITHIN);
      }
    }, PING_EVERY);
  }

  clearHeartbeat() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pingTimer = null;
    this.pongTimer = null;
  }
}
