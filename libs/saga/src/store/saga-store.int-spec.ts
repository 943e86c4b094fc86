// The saga store's read API (`find`, `list`) and its history writes, against real PostgreSQL.
import { randomUUID } from 'node:crypto';
import { MessagingRig } from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidSagaListQuery, SagaStore } from './saga-store.js';
import { CreateSagaTables1763910000000 } from './saga-tables.migration.js';
import { SagaStateEnteredAt1764400000000 } from './saga-state-entered.migration.js';
import { SagaHistoryStepRows1764500000000 } from './saga-history-steps.migration.js';
import { SagaCompositeArrivals1765200000000 } from './saga-arrivals.migration.js';

let rig: MessagingRig;
let store: SagaStore;
beforeAll(async () => {
  rig = await MessagingRig.create([
    CreateSagaTables1763910000000,
    SagaStateEnteredAt1764400000000,
    SagaHistoryStepRows1764500000000,
    SagaCompositeArrivals1765200000000,
  ]);
  store = new SagaStore(rig.dataSource);
});
afterAll(async () => {
  await rig.dispose();
});

// Each test its own saga type, so lists see only that test's instances.
const freshType = () => `store-${randomUUID().slice(0, 8)}`;

/** Instances with chosen creation times, as if created over a while. */
async function seed(sagaType: string, rows: { state: string; createdAt: string }[]): Promise<string[]> {
  const ids = rows.map(() => randomUUID());
  await rig.dataSource.query(
    `INSERT INTO saga_instances (saga_type, correlation_id, state, data, version, created_at, updated_at, completed_at)
     SELECT $1, id, state, jsonb_build_object('n', n), 1, created_at, created_at,
            CASE WHEN state = 'Final' THEN created_at END
       FROM unnest($2::uuid[], $3::text[], $4::timestamptz[]) WITH ORDINALITY AS r(id, state, created_at, n)`,
    [sagaType, ids, rows.map((r) => r.state), rows.map((r) => r.createdAt)],
  );
  return ids;
}

async function listAll(sagaType: string, state: string | undefined, limit: number) {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list(sagaType, { state, limit, cursor });
    pages.push(page.items.map((i) => i.correlationId));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return pages;
}

describe('find', () => {
  it('is undefined for an order the saga never heard of', async () => {
    expect(await store.find(freshType(), randomUUID())).toBeUndefined();
  });

  it('returns the instance with its history in the order it was written', async () => {
    const sagaType = freshType();
    const id = randomUUID();
    const messageId = randomUUID();
    await rig.dataSource.transaction(async (manager) => {
      const tx = new SagaStore(manager);
      expect(await tx.create(sagaType, id, 'Open', { items: [1, 2] })).toBe(1);
      await tx.appendHistory(sagaType, id, [
        { kind: 'event', messageType: 'a.opened.v1', messageId, fromState: 'Initial', toState: 'Open', detail: {} },
        { kind: 'command', messageType: 'b.do.v1', detail: { subject: id, data: [1, 'two'] } },
        {
          kind: 'transition',
          messageType: 'a.opened.v1',
          messageId,
          fromState: 'Initial',
          toState: 'Open',
          detail: { rule: 'initially' },
        },
      ]);
    });
    const view = await store.find(sagaType, id);
    expect(view).toMatchObject({
      sagaType,
      correlationId: id,
      state: 'Open',
      version: 1,
      data: { items: [1, 2] },
      completedAt: null,
    });
    expect(view?.createdAt).toEqual(view?.updatedAt);
    expect(view?.history.map(({ id: _id, at: _at, ...entry }) => entry)).toEqual([
      { kind: 'event', messageType: 'a.opened.v1', messageId, fromState: 'Initial', toState: 'Open', detail: {} },
      { kind: 'command', messageType: 'b.do.v1', detail: { subject: id, data: [1, 'two'] } },
      {
        kind: 'transition',
        messageType: 'a.opened.v1',
        messageId,
        fromState: 'Initial',
        toState: 'Open',
        detail: { rule: 'initially' },
      },
    ]);
    const ids = view!.history.map((h) => h.id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
  });

  it('shows events recorded for an order whose saga has not started, as Initial with version 0', async () => {
    const sagaType = freshType();
    const id = randomUUID();
    await store.appendHistory(sagaType, id, [
      { kind: 'unexpected', messageType: 'a.late.v1', messageId: randomUUID(), fromState: 'Initial', detail: {} },
    ]);
    expect(await store.find(sagaType, id)).toMatchObject({
      state: 'Initial',
      version: 0,
      data: null,
      createdAt: null,
      history: [{ kind: 'unexpected', messageType: 'a.late.v1' }],
    });
  });

  it('keeps two saga types that follow the same order apart', async () => {
    const [first, second] = [freshType(), freshType()];
    const id = randomUUID();
    await store.create(first, id, 'Open', { who: 'first' });
    await store.create(second, id, 'Final', { who: 'second' });
    expect(await store.find(first, id)).toMatchObject({ state: 'Open', data: { who: 'first' }, completedAt: null });
    const completed = await store.find(second, id);
    expect(completed).toMatchObject({ state: 'Final', data: { who: 'second' } });
    expect(completed?.completedAt).not.toBeNull();
  });
});

describe('update', () => {
  it('moves the version on by one and refuses any version but the current one', async () => {
    const sagaType = freshType();
    const id = randomUUID();
    await store.create(sagaType, id, 'Open', {});
    expect(await store.update(sagaType, id, 1, 'Open', { step: 1 })).toBe(2);
    await expect(store.update(sagaType, id, 1, 'Final', { step: 2 })).rejects.toMatchObject({
      name: 'SagaConcurrencyConflict',
      expectedVersion: 1,
    });
    expect(await store.update(sagaType, id, 2, 'Final', { step: 2 })).toBe(3);
    expect(await store.find(sagaType, id)).toMatchObject({ state: 'Final', version: 3, data: { step: 2 } });
  });
});

describe('list', () => {
  it('pages oldest first through one saga type, optionally in one state, without gaps or repeats', async () => {
    const sagaType = freshType();
    // Two instances a microsecond apart and two at the same instant: the cursor must tell them apart.
    const ids = await seed(sagaType, [
      { state: 'Waiting', createdAt: '2030-01-01T00:00:00.000001Z' },
      { state: 'Final', createdAt: '2030-01-01T00:00:00.000002Z' },
      { state: 'Waiting', createdAt: '2030-01-01T00:00:00.000003Z' },
      { state: 'Waiting', createdAt: '2030-01-01T00:00:00.000003Z' },
      { state: 'Waiting', createdAt: '2030-01-02T00:00:00Z' },
    ]);
    await seed(freshType(), [{ state: 'Waiting', createdAt: '2030-01-01T00:00:00Z' }]);
    const sameInstant = [ids[2], ids[3]].sort();

    expect(await listAll(sagaType, undefined, 2)).toEqual([[ids[0], ids[1]], sameInstant, [ids[4]]]);
    expect(await listAll(sagaType, 'Waiting', 2)).toEqual([
      [ids[0], sameInstant[0]],
      [sameInstant[1], ids[4]],
    ]);
    expect(await listAll(sagaType, 'Final', 50)).toEqual([[ids[1]]]);
    expect(await listAll(sagaType, 'Shipped', 50)).toEqual([[]]);

    const [first] = (await store.list(sagaType, { limit: 1 })).items;
    expect(first).toEqual({
      sagaType,
      correlationId: ids[0],
      state: 'Waiting',
      version: 1,
      data: { n: 1 },
      arrived: [],
      createdAt: '2030-01-01T00:00:00.000001Z',
      updatedAt: '2030-01-01T00:00:00.000001Z',
      completedAt: null,
    });
  });

  it('filters by creation time, id prefix and a text in the data at the paths the caller names, across pages', async () => {
    const sagaType = freshType();
    const ids = await seed(sagaType, [
      { state: 'Parked', createdAt: '2030-02-01T00:00:00Z' },
      { state: 'Parked', createdAt: '2030-02-02T00:00:00Z' },
      { state: 'Parked', createdAt: '2030-02-03T00:00:00Z' },
      { state: 'Parked', createdAt: '2030-02-04T00:00:00Z' },
    ]);
    const reasons = ['The carrier never reported', 'stock not released', 'carrier lost 100%_of it', null];
    for (const [i, reason] of reasons.entries()) {
      const data = reason === null ? { other: 'carrier' } : i === 1 ? { reason } : { attention: { reason } };
      await rig.dataSource.query('UPDATE saga_instances SET data = $2 WHERE correlation_id = $1', [ids[i], data]);
    }
    const paths = [['attention', 'reason'], ['reason']];
    const all = async (query: Parameters<SagaStore['list']>[1]) => {
      const found: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list(sagaType, { ...query, limit: 1, cursor });
        found.push(...page.items.map((i) => i.correlationId));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return found;
    };

    expect(await all({ since: '2030-02-02T00:00:00Z', until: '2030-02-04T00:00:00Z' })).toEqual([ids[1], ids[2]]);
    expect(await all({ dataText: { paths, contains: 'CARRIER' } })).toEqual([ids[0], ids[2]]);
    expect(await all({ dataText: { paths, contains: 'released' } })).toEqual([ids[1]]);
    // LIKE's wildcards are the text itself.
    expect(await all({ dataText: { paths, contains: '100%_' } })).toEqual([ids[2]]);
    expect(await all({ dataText: { paths, contains: '%' } })).toEqual([ids[2]]);
    expect(await all({ correlationIdPrefix: ids[3].slice(0, 13) })).toEqual([ids[3]]);
    await expect(store.list(sagaType, { correlationIdPrefix: "a' OR 1=1" })).rejects.toThrow(InvalidSagaListQuery);
    await expect(store.list(sagaType, { since: 'yesterday' })).rejects.toThrow(InvalidSagaListQuery);
  });

  it('refuses a limit out of range and a cursor it did not issue', async () => {
    await expect(store.list('any', { limit: 0 })).rejects.toThrow(InvalidSagaListQuery);
    await expect(store.list('any', { limit: 501 })).rejects.toThrow(InvalidSagaListQuery);
    await expect(store.list('any', { cursor: 'not-a-cursor' })).rejects.toThrow('cursor is not one this API returned');
    const forged = Buffer.from(JSON.stringify(['2030-01-01', 'DROP TABLE'])).toString('base64url');
    await expect(store.list('any', { cursor: forged })).rejects.toThrow(InvalidSagaListQuery);
  });
});
