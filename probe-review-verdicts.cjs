const { connect, DiscardPolicy, headers } = require('nats');
const enc = (v) => new TextEncoder().encode(JSON.stringify(v));
const UNDECIDED = 'undecided'.padEnd(9 + String(2n ** 64n - 1n).length, '.');
(async () => {
  const port = process.argv[2] || '14555';
  const replicas = Number(process.argv[3] || 1);
  const nc = await connect({ servers: `127.0.0.1:${port}` });
  const js = nc.jetstream(); const jsm = await nc.jetstreamManager();
  const name = 'probe' + Date.now();
  const kv = await js.views.kv(name, { history: 1, replicas, max_bytes: 100000 });
  const sname = `KV_${name}`;
  const bytes = async () => (await jsm.streams.info(sname)).state.bytes;
  const id = '0b7d1f0e-7a53-4a9b-9f4e-3d0f8a7b6c5d';
  let b0 = await bytes();
  const r = await kv.put(id, enc(UNDECIDED), { previousSeq: 0 });
  const ph = (await bytes()) - b0;
  await kv.update(id, enc('announced'), r);
  const ver = (await bytes()) - b0;
  console.log({ replicas, UNDECIDED_len: UNDECIDED.length, placeholder: ph, verdictWithRevision: ver, revDigits: String(r).length, impliedVerdictAt20Digits: ver - String(r).length + 20 });
  // Fill: set max_bytes tight and discard new, max_msgs tight
  const info = await jsm.streams.info(sname);
  await jsm.streams.purge(sname);
  await jsm.streams.update(sname, { ...info.config, max_bytes: 164 * 20 + 50, discard: DiscardPolicy.New });
  const res = [];
  for (let i = 0; ; i++) {
    try { res.push([`k${String(i).padStart(35, '0')}`, await kv.create(`k${String(i).padStart(35, '0')}`, enc(UNDECIDED))]); }
    catch (e) { console.log('bytes full after', res.length, e.api_error); break; }
  }
  let ok = 0, bad = [];
  for (const [k, rev] of res) {
    try { await kv.update(k, enc(k.endsWith('1') ? 'failed' : 'announced'), rev); ok++; } catch (e) { bad.push(e.api_error); }
  }
  console.log('bytes-full replacements ok', ok, 'refused', bad.slice(0, 2));
  // equal size replacement is refused? craft a same-size message with padding header
  const [k0] = res[0];
  const cur = await kv.get(k0);
  // a replacement exactly as large as the current entry
  const curSize = (await bytes());
  try { await kv.create('newkey-when-full', enc('x')); console.log('new key accepted?!'); } catch (e) { console.log('new key refused', e.api_error?.description); }
  // Delete one by seq, then a create fits
  await jsm.streams.deleteMessage(sname, cur.revision, false);
  try { await kv.create('zz-after-delete', enc(UNDECIDED)); console.log('create after delete ok'); } catch (e) { console.log('after delete refused', e.api_error); }
  // deleting a missing seq: error code
  try { await jsm.streams.deleteMessage(sname, cur.revision, false); } catch (e) { console.log('delete missing', e.api_error); }
  try { await jsm.streams.deleteMessage(sname, 10 ** 9, false); } catch (e) { console.log('delete beyond last', e.api_error); }
  // max_msgs path
  const info2 = await jsm.streams.info(sname);
  await jsm.streams.purge(sname);
  await jsm.streams.update(sname, { ...info2.config, max_bytes: -1, max_msgs: 5, discard: DiscardPolicy.New });
  const r2 = [];
  for (let i = 0; i < 6; i++) { try { r2.push([`m${i}`, await kv.create(`m${i}`, enc(UNDECIDED))]); } catch (e) { console.log('msgs full at', i, e.api_error?.description); } }
  for (const [k, rev] of r2) { try { await kv.update(k, enc('x'.repeat(500)), rev); } catch (e) { console.log('max_msgs replacement refused', e.api_error); } }
  console.log('max_msgs: bigger replacements went in', (await jsm.streams.info(sname)).state.messages);
  await jsm.streams.delete(sname);
  await nc.close();
})().catch((e) => { console.error(e); process.exit(1); });
