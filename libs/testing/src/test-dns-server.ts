import { createSocket, type Socket } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';

const TYPE_A = 1;
const TYPE_AAAA = 28;

/**
 * A DNS server on loopback for tests (UDP, A and AAAA): names it knows answer with their
 * addresses, every other name is NXDOMAIN. Services under test are pointed at it (DNS_SERVERS), so
 * no test ever sends a DNS query off the machine, and a test can make a host stop or start
 * resolving.
 */
export class TestDnsServer {
  private readonly records = new Map<string, string[]>();
  /** Names asked about that get no answer at all (a name server that never replies). */
  private readonly silent = new Set<string>();
  /** Every name asked, in order (lower case, no trailing dot). */
  readonly asked: string[] = [];

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
  ) {}

  static async start(): Promise<TestDnsServer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    const server = new TestDnsServer(socket, `127.0.0.1:${socket.address().port}`);
    server.set('localhost', ['127.0.0.1']); // as /etc/hosts has it (a resolver given servers reads no hosts file)
    socket.on('message', (msg, from) => {
      const reply = server.answer(msg);
      if (reply) socket.send(reply, from.port, from.address);
    });
    return server;
  }

  /** `name` resolves to these addresses from now on (none: it stops resolving). */
  set(name: string, addresses: string[]): void {
    if (addresses.length === 0) this.records.delete(name.toLowerCase());
    else this.records.set(name.toLowerCase(), addresses);
  }

  /** Questions about `name` go unanswered from now on. */
  ignore(name: string): void {
    this.silent.add(name.toLowerCase());
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private answer(query: Buffer): Buffer | undefined {
    if (query.length < 12 || query.readUInt16BE(4) !== 1) return undefined;
    const labels: string[] = [];
    let at = 12;
    while (at < query.length && query[at] !== 0) {
      const len = query[at];
      if (len > 63 || at + 1 + len > query.length) return undefined;
      labels.push(query.subarray(at + 1, at + 1 + len).toString('latin1'));
      at += 1 + len;
    }
    const questionEnd = at + 5;
    if (questionEnd > query.length) return undefined;
    const type = query.readUInt16BE(at + 1);
    const name = labels.join('.').toLowerCase();
    this.asked.push(name);
    if (this.silent.has(name)) return undefined;
    const known = this.records.get(name);
    const wanted =
      known?.filter((a) => (type === TYPE_A ? isIPv4(a) : type === TYPE_AAAA ? isIPv6(a) : false)) ?? [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0); // id
    // QR, AA, RD as asked, RA; rcode 3 (NXDOMAIN) for unknown names.
    header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | (known ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(wanted.length, 6);
    const answers = wanted.map((address) => {
      const rdata =
        type === TYPE_A
          ? Buffer.from(address.split('.').map(Number))
          : Buffer.from(
              expandIpv6(address)
                .map((g) => [g >> 8, g & 0xff])
                .flat(),
            );
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // the question's name
      rr.writeUInt16BE(type, 2);
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(1, 6); // TTL: 1 s
      rr.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([rr, rdata]);
    });
    return Buffer.concat([header, query.subarray(12, questionEnd), ...answers]);
  }
}

function expandIpv6(address: string): number[] {
  const [head, tail] = address.split('::');
  const part = (s: string | undefined) => (s ? s.split(':').map((h) => parseInt(h, 16)) : []);
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  return [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
}
