import { it } from 'vitest'
import { harness, makeTempDir, bytes } from './helpers.js'
it('dbg', async () => {
  const tmp = await makeTempDir()
  const h = harness(tmp.dir, { segmentBytes: 512, maxBytes: 1 << 20, compactionThreshold: 0.3 })
  const s = await h.open()
  for (let i = 0; i < 40; i++) await s.putMany([{ key: 'abcdefgh'[i % 8], value: bytes('x'.repeat(i)), expiresAt: 0 }])
  console.log(s.stats())
  let r = 0
  while (await s.maintain(256)) r++
  console.log(r, s.stats())
  await s.close(); await tmp.cleanup()
})
