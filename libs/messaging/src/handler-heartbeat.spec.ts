import { HandlerHeartbeat } from './handler-heartbeat';

/** A delivered message that counts how often the server was told its handler is at work. */
class Delivered {
  told = 0;
  working(): void {
    this.told++;
  }
}

describe('telling the server a handler is still at work', () => {
  let clock = 0;
  const letGo: Array<[Delivered, number]> = [];
  let heartbeat: HandlerHeartbeat<Delivered>;

  beforeEach(() => {
    jest.useFakeTimers();
    clock = 0;
    letGo.length = 0;
    // Ack wait 30 s; kept at work for 5 minutes at most.
    heartbeat = new HandlerHeartbeat<Delivered>(
      30_000,
      300_000,
      { letGo: (msg, ranMs) => letGo.push([msg, ranMs]) },
      () => clock,
    );
  });
  afterEach(() => {
    heartbeat.stop();
    jest.useRealTimers();
  });
  const advance = (ms: number) => {
    for (let t = 0; t < ms; t += 1_000) {
      clock += 1_000;
      jest.advanceTimersByTime(1_000);
    }
  };

  it('says nothing of a handler that ends within a third of the ack wait', () => {
    const quick = new Delivered();
    heartbeat.started(quick);
    advance(9_000);
    heartbeat.ended(quick);
    advance(60_000);
    expect(quick.told).toBe(0);
  });

  it('tells of a slow handler before its ack wait runs out, again within every ack wait, and not after it ends', () => {
    const slow = new Delivered();
    heartbeat.started(slow);
    advance(20_000);
    expect(slow.told).toBeGreaterThanOrEqual(1);
    advance(70_000);
    expect(slow.told).toBeGreaterThanOrEqual(1 + Math.floor(70_000 / 30_000));
    const told = slow.told;
    heartbeat.ended(slow);
    advance(60_000);
    expect(slow.told).toBe(told);
    expect(letGo).toHaveLength(0);
  });

  it('lets a handler go once it has run longer than it is kept: its event is delivered again', () => {
    const stuck = new Delivered();
    heartbeat.started(stuck);
    advance(300_000);
    const told = stuck.told;
    advance(20_000);
    expect(letGo.map(([msg]) => msg)).toEqual([stuck]);
    expect(letGo[0][1]).toBeGreaterThan(300_000);
    advance(120_000);
    expect(stuck.told).toBe(told);
  });
});
