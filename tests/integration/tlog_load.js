// Load and checks for tests/integration/tlog_durability.sh, with node's own crypto and HTTP client
// (a peer of vouch's, not its code):
//   node tlog_load.js propose N OUT
//       N hashedrekord proposals of distinct artifacts signed with a fresh P-256 key (JSON array).
//   node tlog_load.js submit URL PROPOSALS CONNECTIONS KILL_AFTER PID ACKS
//       CONNECTIONS keep-alive connections POST the proposals, one request outstanding on each;
//       once KILL_AFTER entries are acknowledged (201) the server PID gets SIGKILL while the
//       others are in flight. Writes the acknowledged entries (with their inclusion proofs) to
//       ACKS and prints the rate and latency until the kill.
//   node tlog_load.js check URL ACKS CONNECTIONS
//       Every acknowledged entry is at its index with the same body, its UUID is its leaf hash,
//       and the inclusion proof it was acknowledged with verifies (RFC 9162) against the root
//       hash it was acknowledged with.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');

// A keep-alive HTTP/1.1 connection on a raw socket, one request outstanding at a time: node's http
// module costs more CPU per request than the log it loads, and the two share the machine.
class Connection {
  constructor(url) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.socket = null;
    this.pending = null;
    this.buffer = Buffer.alloc(0);
  }

  connect() {
    return new Promise((resolve, reject) => {
      const s = net.connect(this.port, this.host);
      s.setNoDelay(true);
      s.once('connect', () => { this.socket = s; resolve(); });
      s.on('data', (d) => this.received(d));
      s.on('error', (e) => { if (this.socket !== s) reject(e); });
      s.on('close', () => {
        if (this.socket !== s) return;
        this.socket = null;
        this.buffer = Buffer.alloc(0);
        this.settle(null, new Error('connection closed'));
      });
    });
  }

  async request(method, path, body) {
    if (!this.socket) await this.connect();
    return new Promise((resolve, reject) => {
      this.pending = {resolve, reject, timer: setTimeout(() => this.socket && this.socket.destroy(), 10000)};
      const payload = body ? Buffer.from(body) : Buffer.alloc(0);
      const head = `${method} ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n` +
                   (body ? `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n` : '') + '\r\n';
      this.socket.write(Buffer.concat([Buffer.from(head), payload]));
    });
  }

  received(data) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, data]) : data;
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buffer.subarray(0, end).toString('latin1');
    const length = Number((/\r\ncontent-length: *(\d+)/i.exec(head) || [0, 0])[1]);
    if (this.buffer.length < end + 4 + length) return;
    const response = {status: Number(head.slice(9, 12)), body: this.buffer.subarray(end + 4, end + 4 + length).toString()};
    this.buffer = this.buffer.subarray(end + 4 + length);
    if (/\r\nconnection: *close/i.test(head)) {
      const s = this.socket;
      this.socket = null;
      s.destroy();
    }
    this.settle(response, null);
  }

  settle(response, error) {
    const p = this.pending;
    this.pending = null;
    if (!p) return;
    clearTimeout(p.timer);
    if (error) p.reject(error); else p.resolve(response);
  }

  close() { if (this.socket) this.socket.destroy(); }
}

const sha256 = (...parts) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest();

// RFC 9162 section 2.1.3.2.
function verifyInclusion(index, size, leafHash, proof, root) {
  if (index >= size) return false;
  let fn = index, sn = size - 1, r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = sha256(Buffer.from([1]), p, r);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = sha256(Buffer.from([1]), r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

function propose(n, out) {
  const {privateKey, publicKey} = crypto.generateKeyPairSync('ec', {namedCurve: 'prime256v1'});
  const pub = Buffer.from(publicKey.export({type: 'spki', format: 'pem'})).toString('base64');
  const salt = crypto.randomBytes(8).toString('hex');
  const proposals = [];
  for (let i = 0; i < n; i++) {
    const data = Buffer.from(`durability artifact ${i} ${salt}`);
    proposals.push({apiVersion: '0.0.1', kind: 'hashedrekord', spec: {
      data: {hash: {algorithm: 'sha256', value: sha256(data).toString('hex')}},
      signature: {content: crypto.sign('sha256', data, privateKey).toString('base64'), publicKey: {content: pub}}}});
  }
  fs.writeFileSync(out, JSON.stringify(proposals));
}

async function submit(url, proposalsFile, connections, killAfter, pid, acksFile) {
  const proposals = JSON.parse(fs.readFileSync(proposalsFile)).map((p) => JSON.stringify(p));
  const acks = [], latencies = [];
  let next = 0, killed = false, killedAt = 0, sent = 0;
  const t0 = process.hrtime.bigint();
  async function client() {
    const c = new Connection(url);
    while (next < proposals.length) {
      const i = next++;
      const start = process.hrtime.bigint();
      sent++;
      let res;
      try {
        res = await c.request('POST', '/api/v1/log/entries', proposals[i]);
      } catch (e) {
        if (killed) return c.close();  // the server is gone: this one is unacknowledged
        continue;
      }
      if (res.status !== 201) continue;
      const [[uuid, e]] = Object.entries(JSON.parse(res.body));
      const p = e.verification.inclusionProof;
      acks.push({uuid, logIndex: e.logIndex, body: e.body, treeSize: p.treeSize, rootHash: p.rootHash, hashes: p.hashes});
      if (!killed) latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (!killed && acks.length >= killAfter) {
        killed = true;
        killedAt = process.hrtime.bigint();
        process.kill(pid, 'SIGKILL');
      }
    }
  }
  await Promise.all(Array.from({length: connections}, client));
  fs.writeFileSync(acksFile, JSON.stringify(acks));
  latencies.sort((a, b) => a - b);
  const secs = Number((killed ? killedAt : process.hrtime.bigint()) - t0) / 1e9;
  const pct = (q) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(1) : '-';
  console.log(`durability: ${acks.length} entries acknowledged before SIGKILL (${Math.round(killAfter / secs)}/s with ` +
              `${connections} connections, p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms), ${sent - acks.length} in flight or after`);
  if (!killed) {
    console.log(`FAIL: only ${acks.length} of ${killAfter} entries were acknowledged; the server was not killed under load`);
    process.exit(1);
  }
}

async function check(url, acksFile, connections) {
  const acks = JSON.parse(fs.readFileSync(acksFile));
  let bad = 0, next = 0;
  const fail = (msg) => { if (bad++ < 10) console.log('FAIL: ' + msg); };
  async function worker() {
    const c = new Connection(url);
    while (next < acks.length) {
      const a = acks[next++];
      const leaf = sha256(Buffer.from([0]), Buffer.from(a.body, 'base64'));
      if (!verifyInclusion(a.logIndex, a.treeSize, leaf, a.hashes.map((h) => Buffer.from(h, 'hex')), Buffer.from(a.rootHash, 'hex')))
        fail(`entry ${a.logIndex}: the inclusion proof it was acknowledged with does not verify against root ${a.rootHash}`);
      const res = await c.request('GET', `/api/v1/log/entries?logIndex=${a.logIndex}`);
      if (res.status !== 200) { fail(`entry ${a.logIndex}: GET answered ${res.status}`); continue; }
      const [[uuid, e]] = Object.entries(JSON.parse(res.body));
      if (uuid !== a.uuid || e.body !== a.body) fail(`acknowledged entry ${a.uuid} is not at index ${a.logIndex}`);
      if (uuid.slice(16) !== leaf.toString('hex')) fail(`entry ${a.logIndex}: UUID is not the leaf hash`);
    }
    c.close();
  }
  await Promise.all(Array.from({length: connections}, worker));
  console.log(`durability: ${acks.length} acknowledged entries in place, their inclusion proofs verify`);
  process.exit(bad ? 1 : 0);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'propose') propose(Number(args[0]), args[1]);
else if (mode === 'submit') submit(args[0], args[1], Number(args[2]), Number(args[3]), Number(args[4]), args[5]);
else if (mode === 'check') check(args[0], args[1], Number(args[2]));
else { console.error('usage: tlog_load.js propose|submit|check ...'); process.exit(2); }
