// Stock yjs + y-websocket clients against a running Continuum server, driven by the Rust test
// crates/continuum-server/tests/yjs_interop.rs. Nothing here is Continuum-specific except the
// WebSocket class, which adds the session header the stock client has no option for.
//
//   node interop.mjs pair <ws-base> <room> <token-a> <token-b>
//       two clients edit the map "form" concurrently; prints both views once they agree
//   node interop.mjs read <ws-base> <room> <token>
//       one client syncs and prints the map "form"
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'

const [mode, base, room, ...tokens] = process.argv.slice(2)
const deadline = setTimeout(() => { console.error('timed out'); process.exit(2) }, 15000)

const withSession = (token) => class extends WebSocket {
  constructor (url, protocols) { super(url, protocols, { headers: { authorization: `Session ${token}` } }) }
}

const connect = (token) => {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(base, room, doc, { WebSocketPolyfill: withSession(token), disableBc: true })
  const synced = new Promise((resolve) => provider.on('sync', (isSynced) => { if (isSynced) resolve() }))
  return { doc, provider, synced, form: doc.getMap('form') }
}

const until = (check) => new Promise((resolve) => {
  const poll = () => (check() ? resolve() : setTimeout(poll, 20))
  poll()
})

const finish = (result, clients) => {
  console.log(JSON.stringify(result))
  for (const client of clients) client.provider.destroy()
  clearTimeout(deadline)
  setTimeout(() => process.exit(0), 100)
}

if (mode === 'pair') {
  const a = connect(tokens[0])
  const b = connect(tokens[1])
  await Promise.all([a.synced, b.synced])
  // Awareness: what each device publishes (where it is) reaches the others.
  a.provider.awareness.setLocalStateField('device', { label: 'laptop', route: '/checkout', step: 2 })
  a.form.set('email', 'alice@example.com')
  b.form.set('step', 2)
  a.doc.transact(() => { a.form.set('plan', 'pro'); a.form.set('seats', 3) })
  await until(() => a.form.size === 4 && b.form.size === 4)
  const othersSeenByB = () => [...b.provider.awareness.getStates().entries()]
    .filter(([client]) => client !== b.doc.clientID).map(([, state]) => state.device).filter(Boolean)
  await until(() => othersSeenByB().length > 0)
  finish({ a: a.form.toJSON(), b: b.form.toJSON(), bSees: othersSeenByB() }, [a, b])
} else if (mode === 'read') {
  const c = connect(tokens[0])
  await c.synced
  finish({ form: c.form.toJSON() }, [c])
} else {
  console.error(`unknown mode ${mode}`)
  process.exit(64)
}
